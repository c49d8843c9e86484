import { useId, useState } from "react";
import { useMutation, useQuery } from "urql";
import type { BulkResultFieldsFragment } from "../gql/graphql";
import { apiError } from "./client";
import { ConfirmDialog } from "./ConfirmDialog";
import { AcceptSuggestedMatches, SuggestedMatchesPreviewQuery } from "./documents";
import { useDebounced } from "./hooks";
import { formatNumber, plural } from "./format";

// Suggestions start at 85% (docs/product.md); an automatic mapping asks for more by default.
const LOWEST_PERCENT = 85;
const DEFAULT_PERCENT = 90;

/**
 * Accept suggested matches: each missing rep (the selected ones, or all) whose best suggestion
 * scores at least the minimum is mapped to that user. The API's preview lists exactly what it
 * would map before CONFIRM.
 */
export function AcceptMatchesDialog(props: {
  ids: string[] | null;
  onDone: (result: BulkResultFieldsFragment, message: string) => void;
  onClose: () => void;
}) {
  const [percent, setPercent] = useState(String(DEFAULT_PERCENT));
  const parsed = Number(percent);
  const valid = percent.trim() !== "" && Number.isFinite(parsed) && parsed >= LOWEST_PERCENT && parsed <= 100;
  const minScore = useDebounced(valid ? parsed / 100 : null, 200);
  const [preview] = useQuery({
    query: SuggestedMatchesPreviewQuery,
    variables: { minScore: minScore ?? 1, ids: props.ids },
    pause: minScore === null,
    requestPolicy: "network-only",
  });
  const [state, accept] = useMutation(AcceptSuggestedMatches);
  const [error, setError] = useState<string | null>(null);
  const inputId = useId();
  const hintId = useId();
  const proposals = preview.data?.suggestedMatchesPreview ?? [];
  const settled = valid && minScore === parsed / 100 && !preview.fetching && !!preview.data;
  const onConfirm = async (confirmation: string) => {
    setError(null);
    const result = await accept({ minScore: parsed / 100, ids: props.ids, confirmation });
    const problem = apiError(result.error);
    if (problem) return setError(problem.message);
    const outcome = result.data!.acceptSuggestedMatches;
    const moved = outcome.changed.reduce((sum, rep) => sum + rep.leadsMoved, 0);
    const mapped = outcome.changed.map((rep) => `${rep.name} → ${rep.resolvedUser?.name ?? "?"}`).join(", ");
    props.onDone(
      outcome,
      outcome.changed.length
        ? `${plural(outcome.changed.length, "rep", "reps")} mapped (${mapped}); ${plural(moved, "lead", "leads")} moved.`
        : "No rep was mapped.",
    );
  };
  return (
    <ConfirmDialog
      title="Accept Suggested Matches"
      action="Accept Matches"
      busy={state.fetching}
      error={error ?? (apiError(preview.error)?.message || null)}
      blocked={
        !valid
          ? `The minimum score is a number from ${LOWEST_PERCENT} to 100.`
          : settled && proposals.length === 0
            ? "No missing rep has a suggestion that good: nothing would be mapped."
            : null
      }
      onConfirm={onConfirm}
      onClose={props.onClose}
      fields={
        <>
          <div className="field">
            <label htmlFor={inputId}>Minimum score (%)</label>
            <input
              id={inputId}
              type="number"
              inputMode="numeric"
              min={LOWEST_PERCENT}
              max={100}
              step={1}
              value={percent}
              aria-invalid={valid ? undefined : true}
              aria-describedby={hintId}
              onChange={(e) => setPercent(e.target.value)}
            />
            <p id={hintId} className="hint">
              Only a rep whose best suggestion scores at least this much is mapped (from {LOWEST_PERCENT} to 100).
            </p>
          </div>
          <p role="status" aria-live="polite" data-testid="accept-preview-count">
            {!valid ? "" : settled ? `${plural(proposals.length, "rep", "reps")} would be mapped.` : "Looking for matches…"}
          </p>
          {proposals.length > 0 && (
            <table className="proposals">
              <caption className="visually-hidden">What would be mapped</caption>
              <thead>
                <tr>
                  <th scope="col">Missing rep</th>
                  <th scope="col">Mapped to</th>
                  <th scope="col" className="numeric">
                    Score
                  </th>
                </tr>
              </thead>
              <tbody>
                {proposals.map((p) => (
                  <tr key={p.missingRep.id}>
                    <td>
                      {p.missingRep.name}
                      <span className="sub">{plural(p.missingRep.leadsOriginallyAssigned, "lead", "leads")}</span>
                    </td>
                    <td>
                      {p.user.name}
                      {p.user.email && <span className="sub">{p.user.email}</span>}
                    </td>
                    <td className="numeric">{formatNumber(Math.round(p.score * 100))}%</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      }
    >
      <p>
        {props.ids ? `For the ${plural(props.ids.length, "selected rep", "selected reps")}: ` : "For every missing rep: "}
        each one whose best suggested match scores at least the minimum is mapped to that user, as Map to Rep does (the name
        becomes the user's alias and the rep's leads move to them).
      </p>
    </ConfirmDialog>
  );
}
