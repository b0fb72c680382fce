/**
 * The sources' details write a figure a system may not have recorded: the one format
 * (core/figures.ts) for a value, "not recorded" for none, never a made-up zero.
 */
import { formatCost as cost, formatDuration as duration, NOT_RECORDED } from '../figures';

/** Tokens as every view writes them, "not recorded" for none. */
export { nodeTokensText as formatTokens } from '../figures';

export function formatCost(c: number | null): string {
  return c === null ? NOT_RECORDED : cost(c);
}

export function formatDuration(ms: number | null): string {
  return ms === null ? NOT_RECORDED : duration(ms);
}
