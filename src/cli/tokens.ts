/**
 * A step's token figures as the command line reports them. LaForge today records zeros for
 * every step (no usage was measured): the model reads that as not recorded, `null` here, never 0.
 */
import type { Step } from '../core/model';

export interface TokenFigures {
  tokens: { prompt: number; completion: number; total: number } | null;
  cost: number | null;
}

export function tokenFigures(step: Step): TokenFigures {
  const u = step.tokenUsage;
  if (!u) return { tokens: null, cost: null };
  const counted = u.promptTokens > 0 || u.completionTokens > 0 || u.totalTokens > 0;
  return {
    tokens: counted ? { prompt: u.promptTokens, completion: u.completionTokens, total: u.totalTokens } : null,
    cost: u.cost > 0 ? u.cost : null,
  };
}
