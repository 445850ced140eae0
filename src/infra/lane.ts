/**
 * Which share of the upstream budget a piece of work may use: interactive calls (a shopper waiting) may use the whole
 * bucket; background calls (catalog sync, cache refreshes) keep a reserve free. The Recharge queue schedules by lane
 * and the cache refreshes in the background lane.
 */
export type Lane = 'interactive' | 'background'
