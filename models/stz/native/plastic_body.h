/* Body of the plastic update for one floating-point type (included by plastic.c). */
#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)

static inline REAL CAT(stz_rate, SUFFIX)(REAL sbar, REAL chi, REAL ept)
{
    REAL s = sbar < (REAL)1 ? (REAL)1 : sbar;
    REAL shape = (s - (REAL)2) + EXP(-s) * ((REAL)2 + s);
    return ept * shape * ((REAL)1 - (REAL)1 / s) * EXP(-(REAL)1 / chi);
}

/*
 * Samples row0 .. row1 - 1 of a batch of B samples with C cells each.
 *
 * sbar, ddev, factor, chi_out, ddev_out: B x C, contiguous.
 * chi: sample b's cells start at chi + b * chi_stride and are contiguous.
 * kf, ept, cinf, chi_rate, gain: per sample (see adaptive_plastic_update).
 * overrun[b] is set to 1 when a cell of sample b needs more than max_substeps sub-steps.
 * Returns the largest number of sub-steps (full ones plus the final one) of any cell.
 */
int64_t CAT(stz_plastic_update, SUFFIX)(
    int64_t row0, int64_t row1, int64_t C,
    const REAL *sbar, const REAL *chi, int64_t chi_stride, const REAL *ddev,
    const REAL *kf, const REAL *ept, const REAL *cinf, const REAL *chi_rate, const REAL *gain,
    REAL dt, REAL adapt_fac, int64_t max_substeps, REAL small_dev,
    REAL *factor, REAL *chi_out, REAL *ddev_out, uint8_t *overrun)
{
    int64_t most = 0;
    for (int64_t b = row0; b < row1; ++b) {
        const REAL kf_b = kf[b], ept_b = ept[b], cinf_b = cinf[b];
        const REAL rate_b = chi_rate[b], gain_b = gain[b];
        const REAL *chi_b = chi + b * chi_stride;
        for (int64_t i = 0; i < C; ++i) {
            const int64_t at = b * C + i;
            const REAL s0 = sbar[at], c0 = chi_b[i];
            factor[at] = 0;
            chi_out[at] = c0;
            ddev_out[at] = s0 < small_dev ? ddev[at] : (REAL)0;
            if (!(s0 >= (REAL)1))
                continue;
            REAL keep = 1, used = 0, s_end, c_end;
            int64_t k = 0;
            for (;;) {
                if (k >= max_substeps) {
                    overrun[b] = 1;
                    s_end = s0 - adapt_fac * (REAL)k;
                    c_end = cinf_b - (cinf_b - c0) * keep;
                    break;
                }
                const REAL s_k = s0 - adapt_fac * (REAL)k;
                const REAL c_k = cinf_b - (cinf_b - c0) * keep;
                const REAL dpl = CAT(stz_rate, SUFFIX)(s_k, c_k, ept_b);
                const REAL dplas = kf_b * dpl;
                const REAL left = dt - used;
                if (!(left * dplas > adapt_fac)) {
                    s_end = s_k - left * dplas;
                    c_end = c_k + rate_b * dpl * s_k * (cinf_b - c_k) * left;
                    ++k;
                    break;
                }
                used = used + adapt_fac / dplas;
                keep = keep * ((REAL)1 - gain_b * s_k);
                ++k;
            }
            if (k > most)
                most = k;
            const REAL dd = s0 - s_end;
            chi_out[at] = c_end;
            ddev_out[at] = dd;
            factor[at] = dd / s0;
        }
    }
    return most;
}

#undef CAT
#undef CAT_
