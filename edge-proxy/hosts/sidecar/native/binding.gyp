# The SO_ORIGINAL_DST addon (`npm run build:native` = node-gyp rebuild in this directory): one C file
# against Node-API's plain C interface (node_api.h), no npm dependency. Output:
# build/Release/original_dst.node, which traffic/original-destination.ts loads.
{
  "targets": [
    {
      "target_name": "original_dst",
      "sources": ["original_dst.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "xcode_settings": { "OTHER_CFLAGS": ["-Wall", "-Wextra"] }
    }
  ]
}
