/* CUBIC (RFC 9438): cwnd follows W_cubic(t) = C (t - K)^3 + W_max after a
 * congestion event, t being the time since congestion avoidance began,
 * with a Reno-friendly estimate W_est as its floor (4.3), beta 0.7 at a
 * congestion event (4.6) and fast convergence (4.7). Integer arithmetic
 * only (a Cortex-M4 has no double-precision FPU): windows in bytes, times
 * in ms, so C = 0.4 SMSS/s^3 becomes SMSS * 2 / 5 per 10^9 ms^3.
 * Slow start and recovery are tcp_cc.c's. */
#include "tcp_cc.h"

#define W_MAX(cc) ((cc)->priv[0])    /* bytes: window before the last reduction */
#define K_MS(cc) ((cc)->priv[1])     /* ms: when W_cubic reaches W_max again */
#define EPOCH(cc) ((cc)->priv[2])    /* ms: congestion avoidance began */
#define W_EST(cc) ((cc)->priv[3])    /* bytes: the Reno-friendly window */

#define F_EPOCH 0x1u     /* EPOCH, K and W_est hold for this avoidance stage */
#define F_AFTER_RTO 0x2u /* 4.8: the first stage after a timeout: K = 0, W_max = cwnd */

#define T_CLAMP 100000 /* ms: |t - K| cap (the 1.5 cwnd cap binds long before) */

/* floor(cbrt(v)) */
static uint32_t icbrt(uint64_t v)
{
    uint32_t lo = 0, hi = 2642245; /* cbrt(2^64) */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo + 1) / 2;
        if ((uint64_t)mid * mid * mid <= v)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/* W_cubic at dt = t - K ms (4.2, Figure 1), bytes */
static uint32_t w_cubic(const struct tcp_cc *cc, int64_t dt)
{
    if (dt > T_CLAMP)
        dt = T_CLAMP;
    if (dt < -T_CLAMP)
        dt = -T_CLAMP;
    int64_t d3 = dt * dt * dt / 1000; /* |.| <= 10^12 */
    int64_t w = (int64_t)W_MAX(cc) + d3 * (int64_t)cc->smss * 2 / 5 / 1000000;
    return w < 0 ? 0 : w > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)w;
}

static void cubic_init(struct tcp_cc *cc)
{
    W_MAX(cc) = 0;
    cc->alg_flags = 0;
}

static uint32_t cubic_ssthresh(struct tcp_cc *cc, uint32_t flight, uint32_t now_ms, int rto)
{
    (void)now_ms;
    /* 4.7: a window that did not reach the last W_max: release more
     * (W_max = cwnd (1 + beta) / 2) so that a newer flow gets bandwidth */
    if (cc->cwnd < W_MAX(cc))
        W_MAX(cc) = (uint32_t)((uint64_t)cc->cwnd * 17 / 20);
    else
        W_MAX(cc) = cc->cwnd;
    cc->alg_flags = (uint8_t)(rto ? F_AFTER_RTO : 0); /* a new stage starts at the next CA ACK */
    return (uint32_t)((uint64_t)flight * 7 / 10); /* 4.6: beta_cubic = 0.7 */
}

static void epoch_start(struct tcp_cc *cc, uint32_t now_ms)
{
    EPOCH(cc) = now_ms;
    cc->ca_acked = 0;
    W_EST(cc) = cc->cwnd;
    if ((cc->alg_flags & F_AFTER_RTO) || cc->cwnd >= W_MAX(cc)) {
        /* 4.8 after a timeout, or above the old maximum: the plateau is here */
        W_MAX(cc) = cc->cwnd;
        K_MS(cc) = 0;
    } else {
        /* 4.2 (2): K = cbrt((W_max - cwnd_epoch) / C), in ms: the bytes
         * over 0.4 SMSS per s^3, times 10^9 ms^3 per s^3 */
        uint64_t diff = W_MAX(cc) - cc->cwnd;
        K_MS(cc) = icbrt(diff * 2500000000u / cc->smss);
    }
    cc->alg_flags = F_EPOCH;
}

static void cubic_cong_avoid(struct tcp_cc *cc, uint32_t acked, uint32_t now_ms, uint32_t rtt_ms)
{
    if (!(cc->alg_flags & F_EPOCH))
        epoch_start(cc, now_ms);
    int64_t t = (int64_t)(uint32_t)(now_ms - EPOCH(cc));
    /* 4.3: W_est grows by alpha SMSS per window acked, alpha = 3 (1 - beta)
     * / (1 + beta) = 9/17, then 1 once it reaches the window before the
     * reduction (cwnd_prior, taken as ssthresh / beta since ssthresh =
     * beta FlightSize) */
    uint64_t prior = (uint64_t)cc->ssthresh * 10 / 7;
    uint64_t inc = (uint64_t)acked * cc->smss / cc->cwnd;
    if (W_EST(cc) < prior)
        inc = inc * 9 / 17;
    W_EST(cc) = W_EST(cc) + inc > UINT32_MAX ? UINT32_MAX : (uint32_t)(W_EST(cc) + inc);
    uint32_t wc = w_cubic(cc, t - (int64_t)K_MS(cc));
    if (wc < W_EST(cc)) {
        /* 4.3: the Reno-friendly region */
        if (W_EST(cc) > cc->cwnd)
            cc->cwnd = W_EST(cc);
        return;
    }
    /* 4.4, 4.5: toward W_cubic one RTT ahead, at most 1.5 cwnd */
    uint32_t target = w_cubic(cc, t + (int64_t)rtt_ms - (int64_t)K_MS(cc));
    uint64_t cap = (uint64_t)cc->cwnd * 3 / 2;
    if (target > cap)
        target = cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap;
    if (target <= cc->cwnd)
        return;
    /* cwnd += (target - cwnd) / cwnd per SMSS acked, remainders kept */
    uint64_t num = (uint64_t)(target - cc->cwnd) * acked + cc->ca_acked;
    uint64_t add = num / cc->cwnd;
    cc->ca_acked = (uint32_t)(num % cc->cwnd);
    cc->cwnd = (uint64_t)cc->cwnd + add > UINT32_MAX ? UINT32_MAX : (uint32_t)(cc->cwnd + add);
}

static void cubic_on_idle(struct tcp_cc *cc, uint32_t now_ms)
{
    (void)now_ms;
    /* an idle sender's clock must not run on: t restarts with the next
     * avoidance ACK (RFC 9438 5.8: the application-limited case) */
    cc->alg_flags &= (uint8_t)~F_EPOCH;
}

const struct tcp_cc_ops tcp_cc_cubic = {
    .name = "cubic",
    .init = cubic_init,
    .ssthresh = cubic_ssthresh,
    .cong_avoid = cubic_cong_avoid,
    .on_idle = cubic_on_idle,
};
