// The rice classification kernel, in C only to get AVX2 code with a runtime choice (target_clones):
// Swift compiles for the x86-64 baseline (SSE2) and cannot pick instructions per CPU. The Swift kernel in
// Imaging/Classification/RiceClassifier.swift defines the semantics; the tests compare the two.
//
// Eight pixels at a time (vector extensions: one AVX2 register, or two SSE ones), it walks the dates once and
// keeps every statistic in registers, so each value of the stack is loaded once and nothing is stored until
// the class codes.
#include "CShims.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) && defined(__clang__)
#define TESSERA_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define TESSERA_CLONES
#endif

typedef float v8f __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));
typedef unsigned char v8u __attribute__((vector_size(8)));

#define INLINE static inline __attribute__((always_inline))

// Macros, not functions: a function taking or returning a 32-byte vector has a different ABI with and without
// AVX, which the compiler refuses in a file compiled for both.
#define LOAD8(p) ({ v8f loaded_; memcpy(&loaded_, (p), sizeof loaded_); loaded_; })
#define SPLAT(x) ({ const float splat_ = (x); (v8f){splat_, splat_, splat_, splat_, splat_, splat_, splat_, splat_}; })
#define SPLATI(x) ((v8i){x, x, x, x, x, x, x, x})
#define SELECT(mask, a, b) ((v8f)((((v8i)(a)) & (mask)) | (((v8i)(b)) & ~(mask))))
#define SELECTI(mask, a, b) (((a) & (mask)) | ((b) & ~(mask)))

// The statistics and classes of one pixel, the semantics the vector path follows lane by lane.
INLINE unsigned char classify_one(const float *const *planes, int dates, long i, const float *rules) {
    const float shift = -15.0f;  // dB values are shifted before summing squares (Float32 variance).
    float vv_max = -INFINITY, vv_sum = 0, vv_n = 0;
    float vh_min = INFINITY, vh_max = -INFINITY, vh_min_date = 0, vh_max_date = 0, vh_sum = 0, vh_sq = 0, vh_n = 0;
    for (int d = 0; d < dates; d++) {
        const float xv = planes[d][i];
        const int valid_x = xv == xv;
        vv_max = xv > vv_max ? xv : vv_max;
        vv_sum += valid_x ? xv : 0.0f;
        vv_n += valid_x ? 1.0f : 0.0f;
        const float yv = planes[dates + d][i];
        const int valid_y = yv == yv;
        const int lower = yv < vh_min;
        const int higher = yv > vh_max;
        vh_min = lower ? yv : vh_min;
        vh_min_date = lower ? (float)d : vh_min_date;
        vh_max = higher ? yv : vh_max;
        vh_max_date = higher ? (float)d : vh_max_date;
        const float s = valid_y ? yv - shift : 0.0f;
        vh_sum += s;
        vh_sq += s * s;
        vh_n += valid_y ? 1.0f : 0.0f;
    }
    const float vvc = vv_n > 1.0f ? vv_n : 1.0f;
    const float vhc = vh_n > 1.0f ? vh_n : 1.0f;
    const float vv_mean = vv_sum / vvc;
    const float vh_shifted_mean = vh_sum / vhc;
    const float vh_mean = vh_shifted_mean + shift;
    const float vh_var = vh_sq / vhc - vh_shifted_mean * vh_shifted_mean;
    const int water = vv_max < rules[0] && vh_mean < rules[1];
    const int rice = vh_min < rules[2] && vh_max - vh_min >= rules[3] && vh_max_date > vh_min_date && vh_max > rules[4];
    const int urban = vv_mean > rules[5] && vh_var < rules[6];
    const int enough = vv_n >= rules[7] && vh_n >= rules[7];
    unsigned char code = 0;
    code = urban ? 3 : code;
    code = rice ? 1 : code;
    code = water ? 2 : code;
    return enough ? code : 255;
}

TESSERA_CLONES
void tessera_rice_classify(const float *const *planes, int dates, long start, long count, const float *rules,
                           unsigned char *out) {
    const v8f shift = SPLAT(-15.0f);
    const v8f zero = SPLAT(0.0f), one = SPLAT(1.0f);
    const long end = start + count;
    long i = start;
    for (; i + 8 <= end; i += 8) {
        v8f vv_max = SPLAT(-INFINITY), vv_sum = zero, vv_n = zero;
        v8f vh_min = SPLAT(INFINITY), vh_max = SPLAT(-INFINITY), vh_min_date = zero, vh_max_date = zero;
        v8f vh_sum = zero, vh_sq = zero, vh_n = zero;
        for (int d = 0; d < dates; d++) {
            const v8f date = SPLAT((float)d);
            const v8f x = LOAD8(planes[d] + i);
            const v8i valid_x = x == x;
            vv_max = SELECT(x > vv_max, x, vv_max);
            vv_sum += SELECT(valid_x, x, zero);
            vv_n += SELECT(valid_x, one, zero);
            const v8f y = LOAD8(planes[dates + d] + i);
            const v8i valid_y = y == y;
            const v8i lower = y < vh_min;
            const v8i higher = y > vh_max;
            vh_min = SELECT(lower, y, vh_min);
            vh_min_date = SELECT(lower, date, vh_min_date);
            vh_max = SELECT(higher, y, vh_max);
            vh_max_date = SELECT(higher, date, vh_max_date);
            const v8f s = SELECT(valid_y, y - shift, zero);
            vh_sum += s;
            vh_sq += s * s;
            vh_n += SELECT(valid_y, one, zero);
        }
        const v8f vvc = SELECT(vv_n > one, vv_n, one);
        const v8f vhc = SELECT(vh_n > one, vh_n, one);
        const v8f vv_mean = vv_sum / vvc;
        const v8f vh_shifted_mean = vh_sum / vhc;
        const v8f vh_mean = vh_shifted_mean + shift;
        const v8f vh_var = vh_sq / vhc - vh_shifted_mean * vh_shifted_mean;
        const v8i water = (vv_max < SPLAT(rules[0])) & (vh_mean < SPLAT(rules[1]));
        const v8i rice = (vh_min < SPLAT(rules[2])) & (vh_max - vh_min >= SPLAT(rules[3])) & (vh_max_date > vh_min_date)
            & (vh_max > SPLAT(rules[4]));
        const v8i urban = (vv_mean > SPLAT(rules[5])) & (vh_var < SPLAT(rules[6]));
        const v8i enough = (vv_n >= SPLAT(rules[7])) & (vh_n >= SPLAT(rules[7]));
        v8i code = SPLATI(0);
        code = SELECTI(urban, SPLATI(3), code);
        code = SELECTI(rice, SPLATI(1), code);
        code = SELECTI(water, SPLATI(2), code);
        code = SELECTI(enough, code, SPLATI(255));
        const v8u bytes = __builtin_convertvector(code, v8u);
        memcpy(out + i, &bytes, sizeof bytes);
    }
    for (; i < end; i++) out[i] = classify_one(planes, dates, i, rules);
}
