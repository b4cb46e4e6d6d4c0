// The clinic's AI spend (scribe drafts and history summaries) against its monthly budget: one bar per month, the budget as a
// line, the figures in a table as well (the chart is for the eye, the table for everyone).
import { useQuery } from "@tanstack/react-query";
import { get } from "../../api/client";
import { ErrorNotice, Loading, Notice, PageTitle } from "../../ui/feedback";

export interface UsageMonth {
  month: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface AIUsage {
  clinicId: string;
  monthlyBudgetUsd: number;
  months: UsageMonth[];
}

const usd = (n: number) => n.toLocaleString(undefined, { style: "currency", currency: "USD", minimumFractionDigits: 2, maximumFractionDigits: 2 });

export default function Usage() {
  const q = useQuery({ queryKey: ["ai-usage"], queryFn: () => get<AIUsage>("/v1/summaries/usage") });
  if (q.isLoading) return <Loading />;
  if (q.error) return <ErrorNotice error={q.error} onRetry={() => void q.refetch()} />;
  const u = q.data!;
  const current = u.months.at(-1);
  const share = u.monthlyBudgetUsd > 0 && current ? current.costUsd / u.monthlyBudgetUsd : 0;
  return (
    <div>
      <PageTitle>AI spend</PageTitle>
      <p className="mb-3">
        This month: <strong>{usd(current?.costUsd ?? 0)}</strong>{" "}
        {u.monthlyBudgetUsd > 0 ? (
          <>
            of a <strong>{usd(u.monthlyBudgetUsd)}</strong> monthly budget ({Math.round(share * 100)}%).
          </>
        ) : (
          "(no monthly budget set)."
        )}
      </p>
      {share >= 1 && <Notice tone="warning">The budget is used up: notes and summaries use the deterministic engines until next month.</Notice>}
      {share >= 0.8 && share < 1 && <Notice tone="warning">Over 80% of the budget is used.</Notice>}
      <SpendChart u={u} />
      <table className="table mt-4" aria-label="AI spend per month">
        <thead>
          <tr>
            <th scope="col">Month</th>
            <th scope="col">Model calls</th>
            <th scope="col">Input tokens</th>
            <th scope="col">Output tokens</th>
            <th scope="col">Cost</th>
          </tr>
        </thead>
        <tbody>
          {u.months.map((m) => (
            <tr key={m.month}>
              <td>{m.month}</td>
              <td>{m.calls}</td>
              <td>{m.inputTokens.toLocaleString()}</td>
              <td>{m.outputTokens.toLocaleString()}</td>
              <td>{usd(m.costUsd)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted mt-2 text-sm">Costs are those recorded for each model call (AI scribe drafts, history summaries); the deterministic engines cost nothing.</p>
    </div>
  );
}

/** Bars for the months' spend, a dashed line for the budget. */
export function SpendChart({ u }: { u: AIUsage }) {
  const W = 640, H = 240, P = 40;
  const max = Math.max(u.monthlyBudgetUsd, ...u.months.map((m) => m.costUsd), 1);
  const bw = (W - 2 * P) / Math.max(u.months.length, 1);
  const y = (v: number) => H - P - (v / max) * (H - 2 * P);
  return (
    <figure className="card">
      <svg viewBox={`0 0 ${W} ${H}`} className="h-auto w-full" role="img" aria-labelledby="spend-title spend-desc">
        <title id="spend-title">AI spend per month against the budget</title>
        <desc id="spend-desc">
          {u.months.map((m) => `${m.month}: ${usd(m.costUsd)}`).join("; ")}. Budget {usd(u.monthlyBudgetUsd)} per month.
        </desc>
        <line x1={P} x2={W - P} y1={H - P} y2={H - P} className="stroke-slate-500" />
        {u.months.map((m, i) => {
          const over = u.monthlyBudgetUsd > 0 && m.costUsd >= u.monthlyBudgetUsd;
          return (
            <g key={m.month}>
              <rect
                x={P + i * bw + bw * 0.15}
                y={y(m.costUsd)}
                width={bw * 0.7}
                height={Math.max(0, H - P - y(m.costUsd))}
                className={over ? "fill-red-700 dark:fill-red-400" : "fill-blue-700 dark:fill-sky-400"}
              />
              <text x={P + i * bw + bw / 2} y={H - P + 16} textAnchor="middle" className="fill-current text-[11px]">
                {m.month}
              </text>
              <text x={P + i * bw + bw / 2} y={y(m.costUsd) - 4} textAnchor="middle" className="fill-current text-[11px]">
                {usd(m.costUsd)}
              </text>
            </g>
          );
        })}
        {u.monthlyBudgetUsd > 0 && (
          <g>
            <line x1={P} x2={W - P} y1={y(u.monthlyBudgetUsd)} y2={y(u.monthlyBudgetUsd)} strokeDasharray="6 4" className="stroke-amber-600 dark:stroke-amber-300" strokeWidth={2} />
            <text x={W - P} y={y(u.monthlyBudgetUsd) - 6} textAnchor="end" className="fill-current text-[11px]">
              budget {usd(u.monthlyBudgetUsd)}
            </text>
          </g>
        )}
      </svg>
    </figure>
  );
}
