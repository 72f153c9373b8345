/*
 * cmd-plugin.c - `plinth plugin new NAME [--dir D] [--force]` writes a plugin folder that builds
 * as is (definition + CPU kernel, a CUDA kernel compiled only where CUDA exists, a test, a
 * CMakeLists.txt pointing at this plinth's headers); `plinth plugin list [--plugins LIB ...]
 * [-v]` loads libraries and prints every registered plugin with its schema, so a user can see
 * exactly which identity an ONNX node must name.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "plinth/plinth.h"
#include "plinth/plugin.h"
#include "plugin/plugin-impl.h"
#include "templates/plugin-templates.h"

static int pl__usage(FILE *f) {
    fprintf(f, "usage: plinth plugin new NAME [--dir DIR] [--force]\n"
               "         writes DIR/NAME/ (NAME or NAMESPACE::NAME, namespace default\n"
               "         \"custom\"): the definition and CPU kernel, a CUDA kernel, a test\n"
               "         and a CMakeLists.txt\n"
               "       plinth plugin list [--plugins LIB.so ...] [-v]\n"
               "         lists the registered plugins (built in, and from the libraries given)\n");
    return f == stderr ? 1 : 0;
}

static bool pl__is_ident(const char *s, size_t n) {
    if (n == 0 || n > 64 || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static bool pl__file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* Where this plinth's headers and library are: $PLINTH_INCLUDE_DIR / $PLINTH_LIB_DIR, else
 * searched upwards from the executable (build tree: <src>/include; install: <prefix>/include). */
static void pl__find_dirs(char *inc, char *lib, size_t size) {
    char exe[4096], probe[4300];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    const char *e_inc = getenv("PLINTH_INCLUDE_DIR"), *e_lib = getenv("PLINTH_LIB_DIR");
    inc[0] = lib[0] = '\0';
    if (e_inc)
        snprintf(inc, size, "%s", e_inc);
    if (e_lib)
        snprintf(lib, size, "%s", e_lib);
    if (n <= 0)
        return;
    exe[n] = '\0';
    for (int up = 0; up < 5; up++) {
        char *slash = strrchr(exe, '/');
        if (!slash || slash == exe)
            break;
        *slash = '\0';
        snprintf(probe, sizeof(probe), "%s/include/plinth/plugin.h", exe);
        if (!inc[0] && pl__file_exists(probe))
            snprintf(inc, size, "%s/include", exe);
        snprintf(probe, sizeof(probe), "%s/libplinth.so", exe);
        if (!lib[0] && pl__file_exists(probe))
            snprintf(lib, size, "%s", exe);
        snprintf(probe, sizeof(probe), "%s/lib/libplinth.so", exe);
        if (!lib[0] && pl__file_exists(probe))
            snprintf(lib, size, "%s/lib", exe);
    }
}

typedef struct pl__subst {
    const char *key, *value;
} pl__subst;

static int pl__write_template(const char *dir, const char *file, const char *tpl,
                              const pl__subst *subs, int nsubs) {
    char path[4200];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "plinth plugin new: %s: %s\n", path, strerror(errno));
        return 1;
    }
    for (const char *p = tpl; *p;) {
        int k = 0;
        if (*p == '@')
            for (; k < nsubs; k++)
                if (strncmp(p, subs[k].key, strlen(subs[k].key)) == 0)
                    break;
        if (*p == '@' && k < nsubs) {
            fputs(subs[k].value, f);
            p += strlen(subs[k].key);
        } else {
            fputc(*p++, f);
        }
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "plinth plugin new: %s: %s\n", path, strerror(errno));
        return 1;
    }
    printf("  %s\n", path);
    return 0;
}

static int pl__mkdirs(const char *path) {
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0777) != 0 && errno != EEXIST ? -1 : 0;
}

static int pl__cmd_new(int argc, char **argv) {
    const char *spec = NULL, *dir = ".", *sep;
    char ns[80] = "custom", name[80], upper[80], folder[4096], inc[4200], lib[4200];
    bool force = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--force") == 0)
            force = true;
        else if (argv[i][0] == '-')
            return fprintf(stderr, "plinth plugin new: unknown option '%s'\n", argv[i]), 1;
        else if (!spec)
            spec = argv[i];
        else
            return fprintf(stderr, "plinth plugin new: more than one NAME ('%s')\n", argv[i]), 1;
    }
    if (!spec)
        return pl__usage(stderr);
    sep = strstr(spec, "::");
    if (sep) {
        if (!pl__is_ident(spec, (size_t)(sep - spec)))
            return fprintf(stderr, "plinth plugin new: namespace '%.*s' must be a C identifier\n",
                           (int)(sep - spec), spec), 1;
        snprintf(ns, sizeof(ns), "%.*s", (int)(sep - spec), spec);
        spec = sep + 2;
    }
    if (!pl__is_ident(spec, strlen(spec)))
        return fprintf(stderr, "plinth plugin new: name '%s' must be a C identifier (it names "
                       "functions and files)\n", spec), 1;
    snprintf(name, sizeof(name), "%s", spec);
    for (size_t i = 0; i <= strlen(name); i++)
        upper[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
    snprintf(folder, sizeof(folder), "%s/%s", dir, name);
    {
        char probe[4300];
        snprintf(probe, sizeof(probe), "%s/CMakeLists.txt", folder);
        if (!force && pl__file_exists(probe))
            return fprintf(stderr, "plinth plugin new: %s already exists (use --force to "
                           "overwrite)\n", probe), 1;
    }
    if (pl__mkdirs(folder) != 0)
        return fprintf(stderr, "plinth plugin new: cannot create %s: %s\n", folder,
                       strerror(errno)), 1;
    pl__find_dirs(inc, lib, sizeof(inc));
    {
        const pl__subst subs[] = {{"@NAME@", name}, {"@NS@", ns}, {"@UPPER@", upper},
                                  {"@INCLUDE_DIR@", inc}, {"@LIB_DIR@", lib}};
        char f1[200], f2[200], f3[200];
        int n = (int)(sizeof(subs) / sizeof(subs[0]));
        snprintf(f1, sizeof(f1), "%s.c", name);
        snprintf(f2, sizeof(f2), "%s.cu", name);
        snprintf(f3, sizeof(f3), "test_%s.c", name);
        printf("plinth plugin new: %s::%s\n", ns, name);
        if (pl__write_template(folder, f1, pl__tpl_plugin_c, subs, n) ||
            pl__write_template(folder, f2, pl__tpl_plugin_cu, subs, n) ||
            pl__write_template(folder, f3, pl__tpl_test_c, subs, n) ||
            pl__write_template(folder, "CMakeLists.txt", pl__tpl_cmake, subs, n))
            return 1;
    }
    if (!inc[0])
        printf("note: plinth's include folder was not found; configure with "
               "-DPLINTH_INCLUDE_DIR=/path/to/plinth/include\n");
    printf("build: cmake -S %s -B %s/build && cmake --build %s/build\n", folder, folder, folder);
    return 0;
}

static void pl__print_attr(const pl_attr_spec *a) {
    printf("      %-16s %-6s", a->name, pl__plugin_attr_type_name(a->type));
    if (a->required) {
        printf(" required");
    } else {
        switch (a->type) {
        case PL_ATTR_INT: case PL_ATTR_BOOL: printf(" = %lld", (long long)a->i); break;
        case PL_ATTR_FLOAT: printf(" = %g", a->f); break;
        case PL_ATTR_STRING: printf(" = \"%s\"", a->s ? a->s : ""); break;
        case PL_ATTR_INTS:
            printf(" = [");
            for (int64_t k = 0; k < a->count && a->ints; k++)
                printf("%s%lld", k ? ", " : "", (long long)a->ints[k]);
            printf("]");
            break;
        case PL_ATTR_FLOATS:
            printf(" = [");
            for (int64_t k = 0; k < a->count && a->floats; k++)
                printf("%s%g", k ? ", " : "", (double)a->floats[k]);
            printf("]");
            break;
        default: printf(" = %lld bytes", (long long)a->count); break;
        }
    }
    printf("%s%s\n", a->doc ? "  " : "", a->doc ? a->doc : "");
}

static int pl__cmd_list(int argc, char **argv) {
    bool verbose = false, in_plugins = false;
    int n;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--plugins") == 0) {
            in_plugins = true;
        } else if (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0) {
            verbose = true;
        } else if (argv[i][0] == '-') {
            return fprintf(stderr, "plinth plugin list: unknown option '%s'\n", argv[i]), 1;
        } else if (in_plugins) {
            if (pl_plugins_load(argv[i]) != PL_OK)
                return fprintf(stderr, "plinth plugin list: %s\n", pl_errmsg()), 1;
        } else {
            return fprintf(stderr, "plinth plugin list: unexpected '%s' (libraries follow "
                           "--plugins)\n", argv[i]), 1;
        }
    }
    n = pl_plugins_count();
    printf("%d plugin%s registered\n", n, n == 1 ? "" : "s");
    for (int i = 0; i < n; i++) {
        const char *ns, *name, *ver, *lib;
        const pl_plugin_def *d = pl__plugin_def_at(i);
        int nt = 0, na = 0;
        if (pl_plugins_get(i, &ns, &name, &ver, &lib) != PL_OK || !d)
            continue;
        printf("%s::%s  version %s  [%s]\n", ns, name, ver,
               lib[0] ? lib : "built in or application");
        if (d->doc)
            printf("    %s\n", d->doc);
        printf("    inputs %d%s, outputs %d; types %s; kernels:%s%s%s\n", d->num_inputs,
               d->optional_inputs ? " (some optional)" : "", d->num_outputs ? d->num_outputs : 1,
               d->types ? d->types : "any", d->cpu ? " cpu" : "", d->cuda ? " cuda" : "",
               d->cuda_source ? " nvrtc" : "");
        while (nt < PL_PLUGIN_MAX_TACTICS && d->tactics[nt])
            nt++;
        if (nt > 1) {
            printf("    tactics:");
            for (int t = 0; t < nt; t++)
                printf(" %s", d->tactics[t]);
            printf("\n");
        }
        while (na < PL_PLUGIN_MAX_ATTRS && d->attrs[na].name)
            na++;
        if (na && verbose) {
            printf("    attributes:\n");
            for (int a = 0; a < na; a++)
                pl__print_attr(&d->attrs[a]);
        } else if (na) {
            printf("    attributes:");
            for (int a = 0; a < na; a++)
                printf(" %s%s", d->attrs[a].name, d->attrs[a].required ? "*" : "");
            printf("   (* required; -v for types and defaults)\n");
        }
    }
    return 0;
}

int pl__cli_plugin(int argc, char **argv) {
    int i = 0;
    /* accept argv starting at the program name, at "plugin", or at the action */
    while (i < argc && (strcmp(argv[i], "plugin") == 0 || strstr(argv[i], "plinth")))
        i++;
    if (i >= argc)
        return pl__usage(stderr);
    if (strcmp(argv[i], "new") == 0)
        return pl__cmd_new(argc - i - 1, argv + i + 1);
    if (strcmp(argv[i], "list") == 0)
        return pl__cmd_list(argc - i - 1, argv + i + 1);
    if (!strcmp(argv[i], "help") || !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
        return pl__usage(stdout);
    fprintf(stderr, "plinth plugin: unknown action '%s'\n", argv[i]);
    return pl__usage(stderr);
}
