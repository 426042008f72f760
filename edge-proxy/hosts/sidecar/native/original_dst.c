/*
 * original_dst: the address a captured TCP connection was sent to before iptables REDIRECTed it to the
 * sidecar's listener, read from the kernel's connection tracking with getsockopt(SO_ORIGINAL_DST) for
 * IPv4 (IP6T_SO_ORIGINAL_DST for IPv6), as Envoy's original_dst listener filter does.
 *
 *   originalDestination(fd: number) -> { address: string, port: number, family: 4 | 6 }
 *
 * Throws an Error whose message carries the errno text (and whose `code` is the errno name, e.g.
 * ENOENT when conntrack has no entry for the socket) when the kernel has no answer. On platforms other
 * than Linux the function exists and always throws "SO_ORIGINAL_DST is Linux-only".
 * Plain Node-API C (node_api.h), built by node-gyp from binding.gyp.
 */
#include <node_api.h>
#include <stdio.h>
#include <string.h>

#ifdef __linux__
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* <linux/netfilter_ipv4.h> and <linux/netfilter_ipv6/ip6_tables.h> define these; both are 80. The
 * kernel headers clash with glibc's netinet ones in some versions, so the values are spelled out. */
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif
#endif

#define CHECK(env, call)                                      \
  do {                                                        \
    if ((call) != napi_ok) {                                  \
      napi_throw_error((env), NULL, "original_dst: " #call " failed"); \
      return NULL;                                            \
    }                                                         \
  } while (0)

#ifdef __linux__
static const char *errno_name(int error) {
  switch (error) {
    case ENOENT: return "ENOENT";
    case ENOTCONN: return "ENOTCONN";
    case EBADF: return "EBADF";
    case ENOTSOCK: return "ENOTSOCK";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case EINVAL: return "EINVAL";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EPERM: return "EPERM";
    default: return "ERR_SO_ORIGINAL_DST";
  }
}

static napi_value throw_errno(napi_env env, const char *what, int error) {
  char message[256];
  snprintf(message, sizeof message, "%s: %s (errno %d)", what, strerror(error), error);
  napi_throw_error(env, errno_name(error), message);
  return NULL;
}

static napi_value result_object(napi_env env, const char *address, int port, int family) {
  napi_value object, value;
  CHECK(env, napi_create_object(env, &object));
  CHECK(env, napi_create_string_utf8(env, address, NAPI_AUTO_LENGTH, &value));
  CHECK(env, napi_set_named_property(env, object, "address", value));
  CHECK(env, napi_create_int32(env, port, &value));
  CHECK(env, napi_set_named_property(env, object, "port", value));
  CHECK(env, napi_create_int32(env, family, &value));
  CHECK(env, napi_set_named_property(env, object, "family", value));
  return object;
}

static napi_value original_ipv4(napi_env env, int fd) {
  struct sockaddr_in destination;
  socklen_t length = sizeof destination;
  memset(&destination, 0, sizeof destination);
  if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &destination, &length) != 0) {
    return throw_errno(env, "getsockopt(SO_ORIGINAL_DST)", errno);
  }
  char text[INET_ADDRSTRLEN];
  if (inet_ntop(AF_INET, &destination.sin_addr, text, sizeof text) == NULL) return throw_errno(env, "inet_ntop", errno);
  return result_object(env, text, ntohs(destination.sin_port), 4);
}

static napi_value original_ipv6(napi_env env, int fd) {
  struct sockaddr_in6 destination;
  socklen_t length = sizeof destination;
  memset(&destination, 0, sizeof destination);
  if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &destination, &length) != 0) {
    return throw_errno(env, "getsockopt(IP6T_SO_ORIGINAL_DST)", errno);
  }
  char text[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, &destination.sin6_addr, text, sizeof text) == NULL) return throw_errno(env, "inet_ntop", errno);
  return result_object(env, text, ntohs(destination.sin6_port), 6);
}
#endif

static napi_value original_destination(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_valuetype type = napi_undefined;
  if (argc >= 1) CHECK(env, napi_typeof(env, argv[0], &type));
  if (type != napi_number) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "originalDestination(fd): fd must be a number");
    return NULL;
  }
  int fd = -1;
  CHECK(env, napi_get_value_int32(env, argv[0], &fd));
  if (fd < 0) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "originalDestination(fd): fd must be a non-negative file descriptor");
    return NULL;
  }
#ifdef __linux__
  /* The socket's own family decides which table to ask: an IPv6 socket holding an IPv4-mapped
   * connection (a dual-stack listener) was tracked, and redirected, as IPv4. */
  struct sockaddr_storage local;
  socklen_t length = sizeof local;
  if (getsockname(fd, (struct sockaddr *)&local, &length) != 0) return throw_errno(env, "getsockname", errno);
  if (local.ss_family == AF_INET) return original_ipv4(env, fd);
  if (local.ss_family == AF_INET6) {
    const struct sockaddr_in6 *six = (const struct sockaddr_in6 *)&local;
    if (IN6_IS_ADDR_V4MAPPED(&six->sin6_addr)) return original_ipv4(env, fd);
    return original_ipv6(env, fd);
  }
  return throw_errno(env, "originalDestination: not an IPv4 or IPv6 socket", EAFNOSUPPORT);
#else
  (void)fd;
  napi_throw_error(env, "ERR_NOT_SUPPORTED", "SO_ORIGINAL_DST is Linux-only");
  return NULL;
#endif
}

NAPI_MODULE_INIT() {
  napi_value function;
  CHECK(env, napi_create_function(env, "originalDestination", NAPI_AUTO_LENGTH, original_destination, NULL, &function));
  CHECK(env, napi_set_named_property(env, exports, "originalDestination", function));
  return exports;
}
