/* Hierarchical timing wheel (lyra/timer_wheel.h). */
#include "lyra/timer_wheel.h"

#include <stddef.h>
#include <string.h>

#define MASK (LYRA_TW_SLOTS - 1)
#define AT_NONE 0 /* not armed: lyra_timer_init zeroes the private words */
#define AT_LIST 1 /* on the due list or a batch */
#define AT_SLOT 2 /* + level * 64 + slot */

/* What a provider keeps in struct lyra_timer's private words. */
struct tw_node {
    struct lyra_tw_link link;
    uint64_t deadline;
    uint32_t at; /* AT_NONE, AT_LIST or AT_SLOT + level * 64 + slot */
};
_Static_assert(sizeof(struct tw_node) <= sizeof(((struct lyra_timer *)0)->priv),
               "struct lyra_timer's private words are too small for a wheel node");
_Static_assert(_Alignof(struct tw_node) <= _Alignof(struct lyra_timer),
               "struct lyra_timer is not aligned for a wheel node");

static struct tw_node *node(struct lyra_timer *t)
{
    return (struct tw_node *)(void *)t->priv;
}

static const struct tw_node *cnode(const struct lyra_timer *t)
{
    return (const struct tw_node *)(const void *)t->priv;
}

static struct lyra_timer *timer_of(struct lyra_tw_link *l)
{
    return (struct lyra_timer *)(void *)((char *)l - offsetof(struct lyra_timer, priv));
}

static void list_init(struct lyra_tw_link *h)
{
    h->next = h->prev = h;
}

static void append(struct lyra_tw_link *h, struct lyra_tw_link *n)
{
    n->prev = h->prev;
    n->next = h;
    h->prev->next = n;
    h->prev = n;
}

static unsigned digit(uint64_t t, unsigned level)
{
    return (unsigned)(t >> (level * LYRA_TW_BITS)) & MASK;
}

/* The time `cur` enters slot s of level l: cur's digits above l, s at l. */
static uint64_t entry(uint64_t cur, unsigned l, unsigned s)
{
    unsigned above = (l + 1) * LYRA_TW_BITS;
    uint64_t prefix = above >= 64 ? 0 : cur >> above << above;
    return prefix | (uint64_t)s << (l * LYRA_TW_BITS);
}

void lyra_tw_init(struct lyra_tw *w, uint64_t now_ns)
{
    for (unsigned l = 0; l < LYRA_TW_LEVELS; l++) {
        for (unsigned s = 0; s < LYRA_TW_SLOTS; s++)
            list_init(&w->slot[l][s]);
        w->occupied[l] = 0;
    }
    list_init(&w->due);
    w->cur = now_ns;
    w->next = UINT64_MAX;
    w->next_stale = 0;
    w->armed = 0;
}

void lyra_tw_batch_init(struct lyra_tw_link *batch)
{
    list_init(batch);
}

/* Takes n off whatever list it is on; an emptied slot loses its bit. */
static void unlink_node(struct lyra_tw *w, struct tw_node *n)
{
    struct lyra_tw_link *l = &n->link;
    l->prev->next = l->next;
    l->next->prev = l->prev;
    if (n->at >= AT_SLOT) {
        unsigned lv = (n->at - AT_SLOT) / LYRA_TW_SLOTS, s = (n->at - AT_SLOT) % LYRA_TW_SLOTS;
        if (w->slot[lv][s].next == &w->slot[lv][s])
            w->occupied[lv] &= ~(1ull << s);
    }
    l->next = l->prev = NULL;
    n->at = AT_NONE;
}

/* Files n by its deadline relative to cur: due, or the slot of the highest
 * digit in which they differ (whose digit there is then above cur's). */
static void place(struct lyra_tw *w, struct tw_node *n)
{
    uint64_t x = n->deadline ^ w->cur;
    if (n->deadline <= w->cur) {
        append(&w->due, &n->link);
        n->at = AT_LIST;
        return;
    }
    unsigned l = (unsigned)(63 - __builtin_clzll(x)) / LYRA_TW_BITS;
    unsigned s = digit(n->deadline, l);
    append(&w->slot[l][s], &n->link);
    w->occupied[l] |= 1ull << s;
    n->at = AT_SLOT + l * LYRA_TW_SLOTS + s;
    uint64_t e = entry(w->cur, l, s);
    if (e < w->next)
        w->next = e;
}

void lyra_tw_arm(struct lyra_tw *w, struct lyra_timer *t, uint64_t deadline_ns)
{
    struct tw_node *n = node(t);
    if (n->at != AT_NONE)
        unlink_node(w, n);
    else
        w->armed++;
    n->deadline = deadline_ns;
    place(w, n);
}

void lyra_tw_cancel(struct lyra_tw *w, struct lyra_timer *t)
{
    struct tw_node *n = node(t);
    if (n->at == AT_NONE)
        return;
    unlink_node(w, n);
    w->armed--;
    w->next_stale = 1; /* next may now be early: lyra_tw_next looks again */
}

int lyra_tw_armed(const struct lyra_timer *t)
{
    return cnode(t)->at != AT_NONE;
}

uint64_t lyra_tw_deadline(const struct lyra_timer *t)
{
    return cnode(t)->at != AT_NONE ? cnode(t)->deadline : LYRA_TIME_NEVER;
}

/* The earliest slot entry: occupied slots always lie above cur's digit at
 * their level, and a lower level's entries come before a higher one's. */
static uint64_t first_entry(const struct lyra_tw *w)
{
    for (unsigned l = 0; l < LYRA_TW_LEVELS; l++)
        if (w->occupied[l])
            return entry(w->cur, l, (unsigned)__builtin_ctzll(w->occupied[l]));
    return UINT64_MAX;
}

/* cur has entered slot s of level l: its timers are due or move down. */
static void cascade(struct lyra_tw *w, unsigned l, unsigned s)
{
    struct lyra_tw_link *h = &w->slot[l][s], *p = h->next;
    w->occupied[l] &= ~(1ull << s);
    list_init(h);
    while (p != h) {
        struct lyra_tw_link *next = p->next;
        place(w, (struct tw_node *)(void *)p);
        p = next;
    }
}

static void advance(struct lyra_tw *w, uint64_t now)
{
    if (now <= w->cur)
        return;
    while (w->next <= now) {
        w->next = first_entry(w); /* the cached bound may be early */
        if (w->next > now)
            break;
        w->cur = w->next;
        w->next_stale = 0;
        /* the slot entered is the lowest occupied one; no other slot's
         * digit equals cur's, but looking costs little */
        for (unsigned l = LYRA_TW_LEVELS; l-- > 0;)
            if (w->occupied[l] >> digit(w->cur, l) & 1)
                cascade(w, l, digit(w->cur, l));
        w->next = first_entry(w);
    }
    w->cur = now;
}

void lyra_tw_collect(struct lyra_tw *w, uint64_t now_ns, struct lyra_tw_link *batch)
{
    advance(w, now_ns);
    if (w->due.next == &w->due)
        return;
    /* splice the due list onto the batch's tail */
    batch->prev->next = w->due.next;
    w->due.next->prev = batch->prev;
    w->due.prev->next = batch;
    batch->prev = w->due.prev;
    list_init(&w->due);
}

struct lyra_timer *lyra_tw_pop(struct lyra_tw *w, struct lyra_tw_link *batch)
{
    struct lyra_tw_link *l = batch->next;
    if (l == batch)
        return NULL;
    struct tw_node *n = (struct tw_node *)(void *)l;
    unlink_node(w, n);
    w->armed--;
    return timer_of(l);
}

uint64_t lyra_tw_next(struct lyra_tw *w)
{
    if (w->due.next != &w->due)
        return w->cur;
    if (w->next_stale) {
        w->next = first_entry(w);
        w->next_stale = 0;
    }
    return w->next;
}
