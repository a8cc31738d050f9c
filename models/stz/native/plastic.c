/*
 * Adaptive STZ plastic update of every cell of a batch, one cell at a time.
 *
 * The same arithmetic, in the same order, as models.stz.plasticity.substep_chunk and
 * adaptive_plastic_update (torch): a full sub-step lowers sbar by exactly adapt_fac and moves
 * chi the fraction gain * sbar of the way to chi_inf; the running product of the chi keep
 * factors and the running sum of the sub-step times are carried from the step start. A loop
 * per cell needs no guess of the sub-step count and evaluates no sub-step twice, which is
 * what the chunked torch version cannot avoid.
 *
 * Compile with -ffp-contract=off (no fused multiply-adds) so that results match torch's
 * element-wise kernels to the rounding of exp().
 */
#include <math.h>
#include <stdint.h>

#define REAL double
#define SUFFIX f64
#define EXP exp
#include "plastic_body.h"
#undef REAL
#undef SUFFIX
#undef EXP

#define REAL float
#define SUFFIX f32
#define EXP expf
#include "plastic_body.h"
