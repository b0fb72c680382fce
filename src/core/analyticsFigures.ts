/**
 * The Analytics figures as every view shows them (the page, its charts and tables, the exports):
 * null where none of the steps counted recorded it, never a made-up zero. Tokens are recorded
 * with any usage; a cost only where a step's usage has one (LLM Orchestration records none).
 * Apart from core/analytics.ts so that the page's bundle takes these and nothing else of it.
 */
import type { AnalyticsCounters, AnalyticsGroup, StepAnalytics } from './analytics';

export const recordedTokens = (c: AnalyticsCounters): number | null => (c.usageSteps === 0 ? null : c.totalTokens);
export const recordedCost = (c: AnalyticsCounters): number | null => (c.costSteps === 0 ? null : c.cost);
/** A step's duration, or a day's, week's or model's mean of the durations known; null when none is. */
export const meanDuration = (c: AnalyticsCounters): number | null => (c.durationSteps === 0 ? null : c.durationMs / c.durationSteps);
/** A group's running total of cost, or null when no step of the figures records a cost. */
export const recordedCumulativeCost = (a: Pick<StepAnalytics, 'totals'>, g: AnalyticsGroup): number | null => (a.totals.costSteps === 0 ? null : g.cumulativeCost);
