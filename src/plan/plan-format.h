/*
 * plan-format.h - constants of the engine file layout shared by the writer (plan.c), the reader
 * (plan-read.c), the structural checks both run (plan-check.c) and the tests that forge files.
 * The layout itself is specified in the header comment of plan.c and in docs/engine-format.md.
 */
#ifndef PL_PLAN_FORMAT_H
#define PL_PLAN_FORMAT_H

#include <stdint.h>
#include <string.h>

#include "plan/plan.h"

#define PL__PLAN_MAGIC "PLNT"
/* Major version: bumped for any change an older reader would misread. Minor: bumped when only
 * optional sections or metadata types are added (older readers skip them). */
#define PL__PLAN_VERSION 1u
#define PL__PLAN_MINOR 0u

#define PL__PLAN_ALIGN 64u
#define PL__PLAN_HEADER_SIZE 64u
#define PL__PLAN_SECTION_ENTRY 32u
#define PL__PLAN_MAX_SECTIONS 64u
#define PL__PLAN_CHECKSUM_SIZE 8u

/* header field offsets */
#define PL__PLAN_OFF_MAGIC 0
#define PL__PLAN_OFF_VERSION 4
#define PL__PLAN_OFF_MINOR 8
#define PL__PLAN_OFF_DEVICE 12
#define PL__PLAN_OFF_FILE_SIZE 16
#define PL__PLAN_OFF_PEAK 24
#define PL__PLAN_OFF_SECTAB 32
#define PL__PLAN_OFF_NSECTIONS 40
#define PL__PLAN_OFF_FLAGS 44

enum {
    PL__SEC_META = 1,
    PL__SEC_TENSORS = 2,
    PL__SEC_INPUTS = 3,
    PL__SEC_OUTPUTS = 4,
    PL__SEC_LAYERS = 5,
    PL__SEC_PLUGINS = 6,
    PL__SEC_BLOBS = 7,
    PL__SEC_BLOB_DATA = 8,
    PL__SEC_WEIGHTS = 9,
    PL__SEC_KNOWN_MAX = 9
};
/* A section a reader must understand; an unknown section without this flag is skipped. */
#define PL__SEC_FLAG_REQUIRED 1u

enum { PL__META_STRING = 1 };

/* tensor record flag bits */
#define PL__TFLAG_OUTPUT 1u
#define PL__TFLAG_DATA_DEPENDENT 2u

/* Limits a reader enforces (and the writer checks, so it never writes what a reader refuses). */
#define PL__PLAN_MAX_NAME 65535u       /* names, op names, plugin identity, kernel names */
#define PL__PLAN_MAX_TEXT (1u << 24)   /* metadata values, STRING attributes */
#define PL__PLAN_MAX_LAYER_IO 64       /* inputs or outputs of one layer */
#define PL__PLAN_MAX_ATTRS 4096        /* attributes of one layer */
#define PL__PLAN_MAX_ROWS 4096         /* plugin table rows, named blobs */

static inline void pl__put_le32(uint8_t *b, uint32_t v) {
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}
static inline void pl__put_le64(uint8_t *b, uint64_t v) {
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}
static inline uint32_t pl__get_le32(const uint8_t *b) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | b[i];
    return v;
}
static inline uint64_t pl__get_le64(const uint8_t *b) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | b[i];
    return v;
}

/* Structural checks of a network as an engine holds it: enums, ranks, dims, constant sizes, id
 * ranges, unique tensor names, topological order, one producer per activation, the input and
 * output lists, attribute names and types, core op arity. Messages read "<prefix>: layer 12
 * ('conv3'): ...". When producer is non-NULL (ntensors entries) it receives each tensor's
 * producing layer (-1 for inputs and constants). */
pl_status pl__plan_check(const pl_network *net, const char *prefix, int32_t *producer);

#endif
