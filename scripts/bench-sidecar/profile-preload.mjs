// Preloaded into a sidecar by `npm run bench:sidecar --cpu-prof DIR` (NODE_OPTIONS="--import <this>";
// Node 20 refuses --cpu-prof in NODE_OPTIONS): SIGUSR2 starts V8's CPU profiler in the process, the
// next SIGUSR2 stops it and writes DIR/sidecar-<pid>-<n>.cpuprofile (then `<file>.done` when written),
// so a profile covers exactly the phase the bench brackets with the two signals.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { join } from "node:path";

const dir = process.env.BENCH_CPU_PROF_DIR;
const intervalUs = Number(process.env.BENCH_CPU_PROF_INTERVAL_US ?? "200");
if (dir !== undefined && dir !== "") {
  const session = new Session();
  session.connect();
  let running = false;
  let count = 0;
  const post = (method, params) => new Promise((resolve, reject) => session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))));
  process.on("SIGUSR2", () => {
    if (!running) {
      running = true;
      void post("Profiler.enable")
        .then(() => post("Profiler.setSamplingInterval", { interval: intervalUs }))
        .then(() => post("Profiler.start"));
      return;
    }
    running = false;
    void post("Profiler.stop").then(({ profile }) => {
      const file = join(dir, `sidecar-${process.pid}-${++count}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      writeFileSync(`${file}.done`, "");
    });
  });
}
