/* A descriptor closed while another thread is blocked on it (fake_l4).
 *
 * Thread V blocks in recv (or lyra_poll) on descriptor F; thread K closes F.
 * V must come back with EBADF (poll: POLLNVAL) and must not hang.
 * Mode "reuse": right after the close, K opens a new socket (which gets the
 * lowest free number: F again), binds it to another port and sends a
 * datagram to it. If V's blocked call comes back with that datagram, the
 * blocked call moved to a socket that did not exist when it started.
 *
 *   close_wakeup ROUNDS [plain|reuse] [loop|drive]
 * Exit 1 on a hang; prints how often the blocked call took the new
 * socket's datagram. */
#include "stress.h"

struct victim {
    struct lyra_stack *s;
    int fd, use_poll;
    pthread_t t;
    long r;
    int err;
    short revents;
    char buf[16];
    atomic_int in;
};

static void *victim_main(void *arg)
{
    struct victim *v = arg;
    atomic_store(&v->in, 1);
    if (v->use_poll) {
        struct lyra_pollfd p = {v->fd, POLLIN, 0};
        v->r = lyra_poll(v->s, &p, 1, -1);
        v->revents = p.revents;
    } else {
        v->r = lyra_recv(v->s, v->fd, v->buf, sizeof(v->buf), 0);
    }
    v->err = errno;
    return NULL;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 200;
    int reuse = argc > 2 && !strcmp(argv[2], "reuse");
    int drive = argc > 3 && !strcmp(argv[3], "drive");
    atomic_store(&pp.abort_on_two, 1);
    wd_init();
    long stolen = 0, ebadf = 0, pollnval = 0;
    for (int i = 0; i < rounds; i++) {
        struct lyra_stack *s = fake_stack(8);
        struct loop lp;
        if (!drive)
            loop_start(&lp, s, 0);
        int other = fake_bound(s, 1000); /* fd 0 */
        int f = fake_bound(s, 2000);     /* fd 1 */
        struct victim v = {.s = s, .fd = f, .use_poll = i % 2};
        pthread_create(&v.t, NULL, victim_main, &v);
        while (!atomic_load(&v.in))
            sched_yield();
        sleep_ms(2); /* V is inside its blocking call */
        wd_arm(5, "round %d: the blocked %s on a closed descriptor never returned", i,
               v.use_poll ? "poll" : "recv");
        CHECK(lyra_close(s, f) == 0, "close");
        if (reuse) {
            int g = fake_bound(s, 3000);
            CHECK(g == f, "the new socket got %d, not %d", g, f);
            struct sockaddr_in to = sin4(NULL, 3000);
            CHECK(lyra_sendto(s, other, "NEW", 3, 0, SA(to), sizeof(to)) == 3, "send");
        }
        pthread_join(v.t, NULL);
        wd_off();
        if (v.use_poll) {
            if (v.r == 1 && v.revents == POLLNVAL)
                pollnval++;
            else if (v.r == 1 && (v.revents & POLLIN))
                stolen++;
            else
                DIE("poll on a closed descriptor: %ld revents %#x (%s)", v.r, v.revents,
                    strerror(v.err));
        } else {
            if (v.r == -1 && v.err == EBADF)
                ebadf++;
            else if (v.r == 3 && !memcmp(v.buf, "NEW", 3))
                stolen++;
            else
                DIE("recv on a closed descriptor: %ld (%s)", v.r, strerror(v.err));
        }
        lyra_stack_stop(s);
        if (!drive)
            pthread_join(lp.t, NULL);
        lyra_stack_destroy(s);
    }
    printf("%s, %s: %d rounds: EBADF %ld, POLLNVAL %ld, blocked call served by the NEW socket "
           "that reused the number: %ld\n",
           reuse ? "close + socket() reusing the number" : "close only",
           drive ? "callers drive" : "loop thread", rounds, ebadf, pollnval, stolen);
    return stolen ? 1 : 0; /* a blocked call must never go on with another socket */
}
