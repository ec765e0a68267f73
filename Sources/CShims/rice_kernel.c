// The rice classification kernel, in C only to get AVX2 code with a runtime choice (target_clones):
// Swift compiles for the x86-64 baseline (SSE2) and cannot pick instructions per CPU. The Swift kernel in
// Imaging/Classification/RiceClassifier.swift defines the semantics; the tests compare the two.
#include "CShims.h"

#include <math.h>

enum { BLOCK = 256 };

#if defined(__x86_64__) && defined(__clang__)
#define TESSERA_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define TESSERA_CLONES
#endif

TESSERA_CLONES
void tessera_rice_classify(const float *const *planes, int dates, long start, long count, const float *rules,
                           unsigned char *out) {
    float vv_max[BLOCK], vv_sum[BLOCK], vv_n[BLOCK];
    float vh_min[BLOCK], vh_max[BLOCK], vh_min_date[BLOCK], vh_max_date[BLOCK];
    float vh_sum[BLOCK], vh_sq[BLOCK], vh_n[BLOCK];
    const float shift = -15.0f;  // dB values are shifted before summing squares (Float32 variance).
    const float water_max_vv = rules[0], water_mean_vh = rules[1], rice_flood_vh = rules[2], rice_rise = rules[3];
    const float rice_peak_vh = rules[4], urban_mean_vv = rules[5], urban_var_vh = rules[6], minimum = rules[7];
    for (long base = start; base < start + count; base += BLOCK) {
        const int n = (int)((start + count - base) < BLOCK ? (start + count - base) : BLOCK);
        for (int i = 0; i < n; i++) {
            vv_max[i] = -INFINITY; vv_sum[i] = 0; vv_n[i] = 0;
            vh_min[i] = INFINITY; vh_max[i] = -INFINITY; vh_min_date[i] = 0; vh_max_date[i] = 0;
            vh_sum[i] = 0; vh_sq[i] = 0; vh_n[i] = 0;
        }
        for (int d = 0; d < dates; d++) {
            const float *restrict x = planes[d] + base;
            const float *restrict y = planes[dates + d] + base;
            const float date = (float)d;
            for (int i = 0; i < n; i++) {
                const float xv = x[i];
                const int valid_x = xv == xv;
                vv_max[i] = xv > vv_max[i] ? xv : vv_max[i];
                vv_sum[i] += valid_x ? xv : 0.0f;
                vv_n[i] += valid_x ? 1.0f : 0.0f;
                const float yv = y[i];
                const int valid_y = yv == yv;
                const int lower = yv < vh_min[i];
                const int higher = yv > vh_max[i];
                vh_min[i] = lower ? yv : vh_min[i];
                vh_min_date[i] = lower ? date : vh_min_date[i];
                vh_max[i] = higher ? yv : vh_max[i];
                vh_max_date[i] = higher ? date : vh_max_date[i];
                const float s = valid_y ? yv - shift : 0.0f;
                vh_sum[i] += s;
                vh_sq[i] += s * s;
                vh_n[i] += valid_y ? 1.0f : 0.0f;
            }
        }
        unsigned char *restrict o = out + base;
        for (int i = 0; i < n; i++) {
            const float vvc = vv_n[i] > 1.0f ? vv_n[i] : 1.0f;
            const float vhc = vh_n[i] > 1.0f ? vh_n[i] : 1.0f;
            const float vv_mean = vv_sum[i] / vvc;
            const float vh_shifted_mean = vh_sum[i] / vhc;
            const float vh_mean = vh_shifted_mean + shift;
            const float vh_var = vh_sq[i] / vhc - vh_shifted_mean * vh_shifted_mean;
            const int water = vv_max[i] < water_max_vv && vh_mean < water_mean_vh;
            const int rice = vh_min[i] < rice_flood_vh && vh_max[i] - vh_min[i] >= rice_rise
                && vh_max_date[i] > vh_min_date[i] && vh_max[i] > rice_peak_vh;
            const int urban = vv_mean > urban_mean_vv && vh_var < urban_var_vh;
            const int enough = vv_n[i] >= minimum && vh_n[i] >= minimum;
            unsigned char code = 0;
            code = urban ? 3 : code;
            code = rice ? 1 : code;
            code = water ? 2 : code;
            code = enough ? code : 255;
            o[i] = code;
        }
    }
}
