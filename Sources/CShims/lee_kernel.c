// The Lee filter's row kernel, in C only to get AVX2 code with a runtime choice (target_clones), like the rice
// kernel: Swift compiles for the x86-64 baseline (SSE2). Imaging/Filter/LeeFilter.swift's portable kernel
// defines the semantics, with the same operations in the same order, and the tests compare the two bit for bit.
//
// Each row is two passes over short arrays that stay in the L1 cache: column sums (value, square, count) over
// the window's rows, then the window sums along the row and the Lee weight. Both sums run pixel by pixel with
// the window's rows or columns unrolled (the radius is a constant in the specialised copies), so the sums
// live in registers instead of being read and written once per window row.
#include "CShims.h"

#include <stdlib.h>

#if defined(__x86_64__) && defined(__clang__)
#define TESSERA_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define TESSERA_CLONES
#endif

// The sums of one row: column sums of rows top ... bottom into s1/s2/n (which have r zero columns on each
// side), then the output row. `r` is a compile-time constant in the callers that matter.
static inline __attribute__((always_inline)) void lee_row(const float *restrict input, long width, long top, long bottom,
                                                          long y, const long r, float noise_variance, float *restrict s1,
                                                          float *restrict s2, float *restrict n, float *restrict out) {
    float *restrict c1 = s1 + r, *restrict c2 = s2 + r, *restrict cn = n + r;
    for (long c = 0; c < width; c++) {
        float sum = 0.0f, squares = 0.0f, count = 0.0f;
        for (long yy = top; yy <= bottom; yy++) {
            const float x = input[yy * width + c];
            const int valid = x > 0.0f;
            const float v = valid ? x : 0.0f;
            sum += v;
            squares += v * v;
            count += valid ? 1.0f : 0.0f;
        }
        c1[c] = sum;
        c2[c] = squares;
        cn[c] = count;
    }
    const float *restrict centre = input + y * width;
    for (long c = 0; c < width; c++) {
        float sum = 0.0f, squares = 0.0f, count = 0.0f;
        for (long d = 0; d <= 2 * r; d++) {
            sum += s1[c + d];
            squares += s2[c + d];
            count += n[c + d];
        }
        const float divisor = count > 1.0f ? count : 1.0f;
        const float reciprocal = 1.0f / divisor;
        const float mean = sum * reciprocal;
        const float variance = squares * reciprocal - mean * mean;
        const int positive = variance > 0.0f;
        const float safe_variance = positive ? variance : 1.0f;
        const float w = 1.0f - noise_variance * mean * mean / safe_variance;
        const float weight = positive ? (w > 0.0f ? w : 0.0f) : 0.0f;
        const float x = centre[c];
        out[c] = x > 0.0f ? mean + weight * (x - mean) : 0.0f;
    }
}

// Rows whose whole window is inside the image, with the window's height known at compile time.
#define LEE_INTERIOR(R)                                                                                             \
    static inline __attribute__((always_inline)) void lee_interior_##R(const float *input, long width, long y, float noise_variance, float *s1, float *s2, \
                                 float *n, float *out) {                                                            \
        lee_row(input, width, y - R, y + R, y, R, noise_variance, s1, s2, n, out);                                  \
    }
LEE_INTERIOR(1)
LEE_INTERIOR(2)
LEE_INTERIOR(3)

TESSERA_CLONES
int tessera_lee_rows(const float *input, long width, long height, long first_row, long end_row, int radius, float looks,
                     float *output) {
    if (width <= 0 || first_row >= end_row) return 0;
    const long r = radius;
    const long padded = width + 2 * r;
    float *scratch = calloc((size_t)(3 * padded), sizeof(float));
    if (scratch == NULL) return -1;
    float *s1 = scratch, *s2 = scratch + padded, *n = scratch + 2 * padded;
    const float noise_variance = 1.0f / looks;
    for (long y = first_row; y < end_row; y++) {
        float *out = output + y * width;
        const int interior = y - r >= 0 && y + r <= height - 1;
        if (interior && r == 2) {
            lee_interior_2(input, width, y, noise_variance, s1, s2, n, out);
        } else if (interior && r == 1) {
            lee_interior_1(input, width, y, noise_variance, s1, s2, n, out);
        } else if (interior && r == 3) {
            lee_interior_3(input, width, y, noise_variance, s1, s2, n, out);
        } else {
            const long top = y - r > 0 ? y - r : 0;
            const long bottom = y + r < height - 1 ? y + r : height - 1;
            lee_row(input, width, top, bottom, y, r, noise_variance, s1, s2, n, out);
        }
    }
    free(scratch);
    return 0;
}
