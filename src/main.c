/* image-apiserver: flags and wiring. Serves image.openshift.io/v1 on the embedded store,
 * or on etcd (--etcd-servers), where several replicas can share one etcd. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "api/api.h"
#include "controller/import_controller.h"
#include "controller/registry_webhook.h"
#include "image/credentials.h"
#include "image/image.h"
#include "image/isi.h"
#include "server/http.h"
#include "storage/storage.h"
#include "util/util.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: image-apiserver [flags]\n"
            "\n"
            "A standalone server for the OpenShift image API (image.openshift.io/v1).\n"
            "\n"
            "Flags:\n"
            "  --listen ADDR:PORT               address to serve on (default 127.0.0.1:8080)\n"
            "  --tls-cert-file FILE             serve HTTPS (HTTP/2 via ALPN and HTTP/1.1) with this PEM\n"
            "                                   certificate chain; reloaded when the file changes\n"
            "  --tls-private-key-file FILE      its private key (PEM)\n"
            "  --tls-min-version VERSION        VersionTLS12 (default) or VersionTLS13\n"
            "  --client-ca-file FILE            verify client certificates against these CAs: CN is the\n"
            "                                   user, O the groups\n"
            "  --http2-max-streams-per-connection N\n"
            "                                   HTTP/2 requests in flight per connection (default 100)\n"
            "  --data-dir DIR                   embedded store directory (default ./data)\n"
            "  --etcd-servers URL[,URL...]      store in etcd v3 instead (http:// or https://); replicas\n"
            "                                   sharing one etcd and prefix serve the same data\n"
            "  --etcd-prefix PREFIX             key prefix in etcd (default /image-apiserver)\n"
            "  --etcd-cafile FILE               CA bundle for etcd's TLS certificate\n"
            "  --etcd-certfile FILE             client certificate for etcd (with --etcd-keyfile)\n"
            "  --etcd-keyfile FILE              its private key\n"
            "  --etcd-timeout SECONDS           per-request timeout talking to etcd (default 5)\n"
            "  --leader-lease-duration SECONDS  etcd: lease of the elected leader that runs compaction\n"
            "                                   (default 15)\n"
            "  --registry-hostname HOST[:PORT]  integrated registry name for status.dockerImageRepository\n"
            "  --public-registry-hostname HOST  external registry name for status.publicDockerImageRepository\n"
            "  --default-import-mode MODE       Legacy (default) or PreserveOriginal\n"
            "  --max-tag-history N              tag events kept per tag, oldest dropped first; events a\n"
            "                                   spec tag pins by digest are kept (default 0 = unlimited)\n"
            "  --signature-keyring FILE         OpenPGP public keys (gpg --export); image signatures made\n"
            "                                   by one of them get condition Trusted=True\n"
            "  --registry-auth-file FILE        docker config.json with registry credentials for imports,\n"
            "                                   tried after the namespace's pull secrets; read again by\n"
            "                                   every import (checked at startup)\n"
"  --max-images-bulk-imported-per-repository N\n"
            "                                   tags a repository import takes (default 50, -1 = all,\n"
            "                                   0 = no tag listing)\n"
            "  --allowed-registries-for-import HOST[:PORT],...\n"
            "                                   registries imports may use (default: any)\n"
            "  --insecure-registries HOST[:PORT],...\n"
            "                                   registries imports may reach over plain http or\n"
            "                                   unverified TLS\n"
            "  --registry-ca-file FILE          extra CA certificates trusted for registries\n"
            "  --scheduled-image-import-interval DURATION\n"
            "                                   re-check importPolicy.scheduled tags about this often\n"
            "                                   (Go duration: 15m, 1h, 30s; default 15m, 0 = never)\n"
            "  --max-scheduled-image-imports-per-minute N\n"
            "                                   global limit on scheduled re-checks (default 60)\n"
            "  --registry-webhook-token-file FILE\n"
            "                                   serve POST /webhooks/registry: registry push notifications\n"
            "                                   with 'Authorization: Bearer <the file's token>' re-import\n"
            "                                   the tags that follow the pushed repository and tag\n"
            "  --compact-retain N               revisions of history kept by compaction (default 10000)\n"
            "  --compact-interval SECONDS       automatic compaction period, 0 = off (default 60;\n"
            "                                   on etcd only the elected leader compacts)\n"
            "  --max-body BYTES                 request body limit (default 3145728)\n"
            "  --threads N                      HTTP event-loop threads (default: number of cores)\n"
            "  --watch-bookmark-interval SECONDS  BOOKMARK period for watches that ask (default 60)\n"
            "  --log-level LEVEL                debug, info, warn or error (default info)\n"
            "  --help                           show this help\n"
            "  --version                        print the version\n");
}

enum {
    OPT_LISTEN = 1000, OPT_DATA_DIR, OPT_REGISTRY, OPT_PUBLIC_REGISTRY, OPT_IMPORT_MODE, OPT_COMPACT_RETAIN,
    OPT_COMPACT_INTERVAL, OPT_MAX_BODY, OPT_THREADS, OPT_BOOKMARK, OPT_LOG_LEVEL, OPT_HELP, OPT_VERSION,
    OPT_ETCD_SERVERS, OPT_ETCD_PREFIX, OPT_ETCD_CA, OPT_ETCD_CERT, OPT_ETCD_KEY, OPT_ETCD_TIMEOUT, OPT_LEASE,
    OPT_MAX_TAG_HISTORY,
    OPT_SIG_KEYRING,
    OPT_REGISTRY_AUTH_FILE,
    OPT_MAX_BULK, OPT_ALLOWED_REGISTRIES, OPT_INSECURE_REGISTRIES, OPT_REGISTRY_CA,
    OPT_SCHED_INTERVAL, OPT_SCHED_PER_MINUTE, OPT_WEBHOOK_TOKEN,
    OPT_TLS_CERT, OPT_TLS_KEY, OPT_CLIENT_CA, OPT_TLS_MIN, OPT_H2_STREAMS,
};

static int parse_int(const char *flag, const char *v, long long min, long long *out)
{
    char *end = NULL;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || n < min) {
        fprintf(stderr, "image-apiserver: invalid value %s for %s (want an integer >= %lld)\n", v, flag, min);
        return -1;
    }
    *out = n;
    return 0;
}

static int registry_fetch(void *ctx, const reg_fetch_req_t *req, reg_fetch_done_fn cb, void *cbctx)
{
    return reg_fetch_image(ctx, req, cb, cbctx);
}

static int registry_tags(void *ctx, const reg_tags_req_t *req, reg_tags_done_fn cb, void *cbctx)
{
    return reg_list_tags(ctx, req, cb, cbctx);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"data-dir", required_argument, NULL, OPT_DATA_DIR},
        {"registry-hostname", required_argument, NULL, OPT_REGISTRY},
        {"public-registry-hostname", required_argument, NULL, OPT_PUBLIC_REGISTRY},
        {"default-import-mode", required_argument, NULL, OPT_IMPORT_MODE},
        {"max-tag-history", required_argument, NULL, OPT_MAX_TAG_HISTORY},
        {"compact-retain", required_argument, NULL, OPT_COMPACT_RETAIN},
        {"compact-interval", required_argument, NULL, OPT_COMPACT_INTERVAL},
        {"max-body", required_argument, NULL, OPT_MAX_BODY},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"watch-bookmark-interval", required_argument, NULL, OPT_BOOKMARK},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"etcd-servers", required_argument, NULL, OPT_ETCD_SERVERS},
        {"etcd-prefix", required_argument, NULL, OPT_ETCD_PREFIX},
        {"etcd-cafile", required_argument, NULL, OPT_ETCD_CA},
        {"etcd-certfile", required_argument, NULL, OPT_ETCD_CERT},
        {"etcd-keyfile", required_argument, NULL, OPT_ETCD_KEY},
        {"etcd-timeout", required_argument, NULL, OPT_ETCD_TIMEOUT},
        {"leader-lease-duration", required_argument, NULL, OPT_LEASE},
        {"signature-keyring", required_argument, NULL, OPT_SIG_KEYRING},
        {"registry-auth-file", required_argument, NULL, OPT_REGISTRY_AUTH_FILE},
        {"max-images-bulk-imported-per-repository", required_argument, NULL, OPT_MAX_BULK},
        {"allowed-registries-for-import", required_argument, NULL, OPT_ALLOWED_REGISTRIES},
        {"insecure-registries", required_argument, NULL, OPT_INSECURE_REGISTRIES},
        {"registry-ca-file", required_argument, NULL, OPT_REGISTRY_CA},
        {"scheduled-image-import-interval", required_argument, NULL, OPT_SCHED_INTERVAL},
        {"max-scheduled-image-imports-per-minute", required_argument, NULL, OPT_SCHED_PER_MINUTE},
        {"registry-webhook-token-file", required_argument, NULL, OPT_WEBHOOK_TOKEN},
        {"tls-cert-file", required_argument, NULL, OPT_TLS_CERT},
        {"tls-private-key-file", required_argument, NULL, OPT_TLS_KEY},
        {"client-ca-file", required_argument, NULL, OPT_CLIENT_CA},
        {"tls-min-version", required_argument, NULL, OPT_TLS_MIN},
        {"http2-max-streams-per-connection", required_argument, NULL, OPT_H2_STREAMS},
        {"help", no_argument, NULL, OPT_HELP},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    http_config_t hcfg = {.listen = "127.0.0.1:8080"};
    store_options_t sopt = {.data_dir = "./data", .compact_retain = 10000, .compact_interval_s = 60};
    image_config_t icfg = {.default_import_mode = "Legacy", .max_images_bulk = 50};
    const char *registry_ca = NULL;
    api_config_t acfg = {.domain = &icfg};
    acfg.kinds = image_kinds(&acfg.nkinds);
    store_etcd_options_t eopt = {.key_prefix = "/image-apiserver", .timeout_ms = 5000};
    int lease_s = 15;
    long sched_interval_ms = 15 * 60 * 1000L;
    int sched_per_minute = 60;
    const char *webhook_token_file = NULL;
    const char *sig_keyring = NULL;
    long long n;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_LISTEN: hcfg.listen = optarg; break;
        case OPT_TLS_CERT: hcfg.tls_cert_file = optarg; break;
        case OPT_TLS_KEY: hcfg.tls_key_file = optarg; break;
        case OPT_CLIENT_CA: hcfg.tls_client_ca_file = optarg; break;
        case OPT_TLS_MIN:
            if (!strcmp(optarg, "VersionTLS12")) hcfg.tls_min_version = 12;
            else if (!strcmp(optarg, "VersionTLS13")) hcfg.tls_min_version = 13;
            else {
                fprintf(stderr, "image-apiserver: --tls-min-version must be VersionTLS12 or VersionTLS13\n");
                return 2;
            }
            break;
        case OPT_H2_STREAMS:
            if (parse_int("--http2-max-streams-per-connection", optarg, 1, &n) || n > 256) {
                fprintf(stderr, "image-apiserver: --http2-max-streams-per-connection must be 1 to 256\n");
                return 2;
            }
            hcfg.h2_max_streams = (int)n;
            break;
        case OPT_DATA_DIR: sopt.data_dir = optarg; break;
        case OPT_REGISTRY: icfg.registry_hostname = optarg; break;
        case OPT_REGISTRY_AUTH_FILE: {
            /* fail fast on a file that will never work; imports read it again each time */
            cred_keyring_t *kr = cred_keyring_new();
            char err[512] = "";
            int rc = cred_keyring_add_file(kr, optarg, err, sizeof err);
            cred_keyring_free(kr);
            if (rc != 0) {
                fprintf(stderr, "image-apiserver: --registry-auth-file: %s\n", err);
                return 2;
            }
            icfg.registry_auth_file = optarg;
            break;
        }
        case OPT_PUBLIC_REGISTRY: icfg.public_registry_hostname = optarg; break;
        case OPT_MAX_BULK:
            if (parse_int("--max-images-bulk-imported-per-repository", optarg, -1, &n) || n > 100000) {
                fprintf(stderr, "image-apiserver: --max-images-bulk-imported-per-repository must be -1 to 100000\n");
                return 2;
            }
            icfg.max_images_bulk = (int)n;
            break;
        case OPT_ALLOWED_REGISTRIES: icfg.allowed_registries = optarg; break;
        case OPT_INSECURE_REGISTRIES: icfg.insecure_registries = optarg; break;
        case OPT_REGISTRY_CA:
            if (access(optarg, R_OK) != 0) {
                fprintf(stderr, "image-apiserver: --registry-ca-file: cannot read %s\n", optarg);
                return 2;
            }
            registry_ca = optarg;
            break;
        case OPT_IMPORT_MODE:
            if (strcmp(optarg, "Legacy") && strcmp(optarg, "PreserveOriginal")) {
                fprintf(stderr, "image-apiserver: --default-import-mode must be Legacy or PreserveOriginal\n");
                return 2;
            }
            icfg.default_import_mode = optarg;
            break;
        case OPT_MAX_TAG_HISTORY:
            if (parse_int("--max-tag-history", optarg, 0, &n) || n > 1000000) {
                fprintf(stderr, "image-apiserver: --max-tag-history must be 0 (unlimited) to 1000000\n");
                return 2;
            }
            icfg.max_tag_history = (int)n;
            break;
        case OPT_COMPACT_RETAIN:
            if (parse_int("--compact-retain", optarg, 1, &n))
                return 2;
            sopt.compact_retain = n;
            break;
        case OPT_COMPACT_INTERVAL:
            if (parse_int("--compact-interval", optarg, 0, &n))
                return 2;
            sopt.compact_interval_s = (int)n;
            break;
        case OPT_MAX_BODY:
            if (parse_int("--max-body", optarg, 1024, &n))
                return 2;
            hcfg.max_body = (size_t)n;
            break;
        case OPT_THREADS:
            if (parse_int("--threads", optarg, 1, &n))
                return 2;
            hcfg.threads = (int)n;
            break;
        case OPT_BOOKMARK:
            if (parse_int("--watch-bookmark-interval", optarg, 1, &n))
                return 2;
            acfg.watch_bookmark_interval_s = (int)n;
            break;
        case OPT_LOG_LEVEL:
            if (!strcmp(optarg, "debug")) log_level = LOG_DEBUG;
            else if (!strcmp(optarg, "info")) log_level = LOG_INFO;
            else if (!strcmp(optarg, "warn")) log_level = LOG_WARN;
            else if (!strcmp(optarg, "error")) log_level = LOG_ERROR;
            else {
                fprintf(stderr, "image-apiserver: --log-level must be debug, info, warn or error\n");
                return 2;
            }
            break;
        case OPT_ETCD_SERVERS: eopt.endpoints = optarg; break;
        case OPT_ETCD_PREFIX:
            if (optarg[0] != '/') {
                fprintf(stderr, "image-apiserver: --etcd-prefix must start with /\n");
                return 2;
            }
            /* keys are "/image.openshift.io/...": a trailing slash would double it */
            for (size_t l = strlen(optarg); l > 1 && optarg[l - 1] == '/'; l--)
                optarg[l - 1] = '\0';
            eopt.key_prefix = optarg;
            break;
        case OPT_ETCD_CA: eopt.ca_file = optarg; break;
        case OPT_ETCD_CERT: eopt.cert_file = optarg; break;
        case OPT_ETCD_KEY: eopt.key_file = optarg; break;
        case OPT_ETCD_TIMEOUT:
            if (parse_int("--etcd-timeout", optarg, 1, &n))
                return 2;
            eopt.timeout_ms = (int)n * 1000;
            break;
        case OPT_LEASE:
            if (parse_int("--leader-lease-duration", optarg, 1, &n))
                return 2;
            lease_s = (int)n;
            break;
        case OPT_SIG_KEYRING: sig_keyring = optarg; break;
        case OPT_SCHED_INTERVAL: {
            int64_t ms = time_parse_duration_ms(optarg);
            if (ms < 0) {
                fprintf(stderr, "image-apiserver: invalid value %s for --scheduled-image-import-interval "
                                "(want a duration such as 15m, 1h or 30s; 0 turns it off)\n", optarg);
                return 2;
            }
            sched_interval_ms = (long)ms;
            break;
        }
        case OPT_WEBHOOK_TOKEN: webhook_token_file = optarg; break;
        case OPT_SCHED_PER_MINUTE:
            if (parse_int("--max-scheduled-image-imports-per-minute", optarg, 1, &n) || n > 1000000)
                return 2;
            sched_per_minute = (int)n;
            break;
        case OPT_HELP: case 'h': usage(stdout); return 0;
        case OPT_VERSION: printf("image-apiserver %s (Kubernetes API v1.32, image.openshift.io/v1)\n", IAS_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "image-apiserver: unexpected argument %s\n", argv[optind]);
        usage(stderr);
        return 2;
    }

    /* Signals are taken by sigwait below; every thread inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Every watch is an open connection: take all the descriptors we are allowed. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    if ((eopt.cert_file != NULL) != (eopt.key_file != NULL)) {
        fprintf(stderr, "image-apiserver: --etcd-certfile and --etcd-keyfile go together\n");
        return 2;
    }
    if (!eopt.endpoints && (eopt.ca_file || eopt.cert_file)) {
        fprintf(stderr, "image-apiserver: the --etcd-* TLS flags need --etcd-servers\n");
        return 2;
    }

    /* gpg reads signature contents; without it signatures are stored unread */
    char *sig_err = NULL;
    sig_verifier_t *sigv = sig_verifier_new(sig_keyring, &sig_err);
    if (!sigv && sig_keyring) {
        log_error("--signature-keyring: %s", sig_err);
        free(sig_err);
        return 1;
    }
    if (!sigv)
        log_warn("image signatures will not be read: %s", sig_err);
    free(sig_err);
    icfg.signatures = sigv;

    /* the registry client: its own thread; imports never wait on it (importer/reg_fetch.h) */
    reg_http_opts_t ropt = {.ca_file = registry_ca};
    reg_client_t *registry = reg_client_new(&ropt);
    isi_registry_ops_t registry_ops = {.fetch_image = registry_fetch, .list_tags = registry_tags, .ctx = registry};
    icfg.registry = &registry_ops;

    int rc = 1;
    store_t *store = NULL;
    api_t *api = NULL;
    http_server_t *srv = NULL;
    store_election_t *leader = NULL;
    store_compactor_t *compactor = NULL;
    import_controller_t *ctrl = NULL;
    registry_webhook_t *webhook = NULL;
    char where[600];
    if (eopt.endpoints) {
        if (store_open_etcd(&eopt, &store) != STORE_OK) {
            log_error("cannot reach etcd at %s", eopt.endpoints);
            goto out;
        }
        snprintf(where, sizeof where, "etcd %s, prefix %s", eopt.endpoints, eopt.key_prefix);
    } else {
        if (store_open_sqlite(&sopt, &store) != STORE_OK) {
            log_error("cannot open the embedded store in %s", sopt.data_dir);
            goto out;
        }
        snprintf(where, sizeof where, "data dir %s", sopt.data_dir);
    }
    acfg.advertise_address = hcfg.listen;
    api = api_new(&acfg, store);
    srv = http_server_new(&hcfg, api_handle, api);
    if (!srv)
        goto out;
    if (api_start(api) != 0) {
        log_error("cannot load the cache from the store");
        goto out;
    }
    if (eopt.endpoints) {
        /* work that must run once among the replicas: compaction (later: controllers) */
        char host[256] = "localhost", identity[400];
        gethostname(host, sizeof host - 1);
        snprintf(identity, sizeof identity, "%s_%s_%d", host, hcfg.listen, (int)getpid());
        leader = store_election_start(store, "image-apiserver", identity, lease_s);
        compactor = store_compactor_start(store, leader, sopt.compact_retain, sopt.compact_interval_s);
    }
    /* DockerImage spec tags get imported; on etcd only while this replica leads */
    import_controller_opts_t ico = {.leader = leader, .schedule_interval_ms = sched_interval_ms,
                                    .max_scheduled_per_minute = sched_per_minute};
    ctrl = import_controller_start(api, &ico);
    if (webhook_token_file) {
        char *werr = NULL;
        webhook = registry_webhook_new(webhook_token_file, ctrl, &werr);
        if (!webhook) {
            log_error("--registry-webhook-token-file: %s", werr);
            free(werr);
            goto out;
        }
        api_add_path(api, REGISTRY_WEBHOOK_PATH, registry_webhook_handle, webhook);
    }
    if (http_server_start(srv) != 0)
        goto out;
    log_info("image-apiserver %s serving on %s://%s (%s)", IAS_VERSION, hcfg.tls_cert_file ? "https" : "http",
             hcfg.listen, where);
    int sig;
    sigwait(&sigs, &sig);
    log_info("signal %d: shutting down", sig);
    rc = 0;
out:
    registry_webhook_detach(webhook);
    import_controller_stop(ctrl);
    api_stop(api);   /* reads waiting for etcd are answered while the server still runs */
    /* imports still waiting on registries end now, with an error, while the pool, the
       controller's workers and the store can still finish them */
    reg_client_free(registry);
    registry = NULL;
    import_controller_free(ctrl);
    http_server_free(srv);
    registry_webhook_free(webhook);
    store_compactor_stop(compactor);
    store_election_stop(leader);   /* resigns: another replica takes over at once */
    api_free(api);
    if (store)
        store_close(store);
    sig_verifier_free(sigv);   /* removes gpg's temporary home */
    return rc;
}
