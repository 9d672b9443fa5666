/* A C program reading its configuration through libhotswap: it waits up
 * to 10 s for the sidecar to publish NAMESPACE, then prints every key of
 * the active version.
 *
 *   cc print_config.c $(pkg-config --cflags --libs hotswap) -o print_config
 *   ./print_config acme/checkout-prod [SCOPE]
 */
#include <hotswap/client.h>
#include <inttypes.h>
#include <stdio.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s NAMESPACE [SCOPE]\n", argv[0]);
    return 2;
  }
  hotswap_open_options options;
  hotswap_open_options_init(&options);
  options.scope = argc > 2 ? argv[2] : NULL; /* NULL: HOTSWAP_SCOPE, if set */
  options.open_timeout_ms = 10000;

  hotswap_client* client = NULL;
  hotswap_snapshot* snapshot = NULL;
  hotswap_status status = hotswap_open_with(argv[1], &options, &client);
  if (status == HOTSWAP_OK) status = hotswap_snapshot_open(client, &snapshot);
  if (status != HOTSWAP_OK) {
    fprintf(stderr, "%s: %s\n", hotswap_status_string(status), hotswap_last_error());
    hotswap_close(client);
    return 1;
  }
  uint64_t version = 0;
  size_t count = 0;
  hotswap_snapshot_version(snapshot, &version);
  hotswap_snapshot_size(snapshot, &count);
  printf("version %" PRIu64 "\n", version);
  hotswap_entry e;
  for (size_t i = 0; i < count && hotswap_snapshot_entry(snapshot, i, &e) == HOTSWAP_OK; ++i) {
    printf("%.*s = ", (int)e.key_len, e.key);
    switch (e.type) {
      case HOTSWAP_TYPE_STRING:
      case HOTSWAP_TYPE_JSON:
        printf("%.*s\n", (int)e.text_len, e.text);
        break;
      case HOTSWAP_TYPE_DOUBLE:
        printf("%g\n", e.double_value);
        break;
      case HOTSWAP_TYPE_BOOL:
        printf("%s\n", e.int64_value ? "true" : "false");
        break;
      case HOTSWAP_TYPE_DURATION:
        printf("%" PRId64 "ns\n", e.int64_value);
        break;
      default:
        printf("%" PRId64 "\n", e.int64_value);
        break;
    }
  }
  hotswap_snapshot_close(snapshot);
  hotswap_close(client);
  return 0;
}
