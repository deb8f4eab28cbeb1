/*
 * Answers ketama placement questions with libmemcached's own weighted ketama
 * (MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED: MD5 points, MD5 key hash), so the test
 * vectors come from an implementation that is not ours.
 *
 * Reads commands from stdin, one per line, and answers on stdout:
 *   S <host> <port> <weight>  add a server (libmemcached names it "host:port",
 *                             or just "host" when port is 11211)
 *   D                         dump the continuum: "P <point> <server index>"
 *   K <hex key bytes>         "K <hex> <hash> <server index>"
 *   H <hash>                  "H <hash> <server index>", dispatched by
 *                             libmemcached through a key hash that returns
 *                             the given number as is
 * Servers must all be added before the first D, K or H.
 *
 * Build: cc -O2 -o ketama-libmemcached ketama-libmemcached.c -lmemcached -lhashkit
 */
#include <libmemcached/memcached.h>
#include <libhashkit-1.0/hashkit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libmemcached keeps this layout private; it is stable across 0.x-1.1. */
struct continuum_item {
  uint32_t index;
  uint32_t value;
};

static void die(const char *what) {
  fprintf(stderr, "ketama-libmemcached: %s\n", what);
  exit(1);
}

/* Key hash for raw-hash queries: the key is the decimal hash itself. */
static uint32_t identity_hash(const char *key, size_t len, void *context) {
  (void) context;
  char buf[32];
  if (len == 0 || len >= sizeof buf) die("bad raw hash");
  memcpy(buf, key, len);
  buf[len] = '\0';
  return (uint32_t) strtoul(buf, NULL, 10);
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  die("bad hex digit");
  return 0;
}

static memcached_st *create(void) {
  memcached_st *memc = memcached_create(NULL);
  if (memc == NULL) die("memcached_create failed");
  if (memcached_behavior_set(memc, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1) != MEMCACHED_SUCCESS) {
    die("cannot enable weighted ketama");
  }
  return memc;
}

int main(void) {
  /* One handle hashes keys with MD5, the other takes hashes verbatim. */
  memcached_st *keyed = create();
  memcached_st *raw = create();
  int built = 0;
  static char line[65536];
  static char key[32768];

  while (fgets(line, sizeof line, stdin) != NULL) {
    line[strcspn(line, "\r\n")] = '\0';
    if (line[0] == 'S') {
      char host[1024];
      unsigned port, weight;
      if (built) die("servers must come first");
      if (sscanf(line, "S %1023s %u %u", host, &port, &weight) != 3) die("bad S line");
      if (memcached_server_add_with_weight(keyed, host, (in_port_t) port, weight) != MEMCACHED_SUCCESS
          || memcached_server_add_with_weight(raw, host, (in_port_t) port, weight) != MEMCACHED_SUCCESS)
      {
        die("cannot add server");
      }
      continue;
    }
    if (!built) {
      hashkit_st hk;
      if (hashkit_create(&hk) == NULL) die("hashkit_create failed");
      if (hashkit_set_custom_function(&hk, identity_hash, NULL) != HASHKIT_SUCCESS) die("custom hash refused");
      if (memcached_set_hashkit(raw, &hk) != MEMCACHED_SUCCESS) die("memcached_set_hashkit failed");
      hashkit_free(&hk);
      if (memcached_behavior_get(keyed, MEMCACHED_BEHAVIOR_HASH) != MEMCACHED_HASH_MD5) die("key hash is not MD5");
      if (memcached_behavior_get(keyed, MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED) != 1) die("ketama is not weighted");
      built = 1;
    }
    if (line[0] == 'D') {
      const struct continuum_item *items = (const struct continuum_item *) keyed->ketama.continuum;
      const struct continuum_item *other = (const struct continuum_item *) raw->ketama.continuum;
      uint32_t n = keyed->ketama.continuum_points_counter;
      if (n != raw->ketama.continuum_points_counter) die("handles disagree on the continuum");
      for (uint32_t i = 0; i < n; i++) {
        if (items[i].value != other[i].value || items[i].index != other[i].index) die("handles disagree");
        printf("P %u %u\n", items[i].value, items[i].index);
      }
    } else if (line[0] == 'K') {
      if (strlen(line) < 2) die("bad K line");
      const char *hex = line + 2;
      size_t hexlen = strlen(hex);
      size_t len = hexlen / 2;
      if (hexlen % 2 != 0 || len >= sizeof key) die("bad K line");
      for (size_t i = 0; i < len; i++) key[i] = (char) (hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
      uint32_t hash = memcached_generate_hash_value(key, len, MEMCACHED_HASH_MD5);
      uint32_t index = memcached_generate_hash(keyed, key, len);
      printf("K %s %u %u\n", hex, hash, index);
    } else if (line[0] == 'H') {
      const char *num = line + 2;
      uint32_t index = memcached_generate_hash(raw, num, strlen(num));
      printf("H %s %u\n", num, index);
    } else if (line[0] != '\0') {
      die("unknown command");
    }
  }
  memcached_free(keyed);
  memcached_free(raw);
  return 0;
}
