import { useState } from "react";
import { storedToken } from "../session";

/**
 * Downloads one of the API's CSV exports. A plain link cannot send the Bearer token (it lives in
 * this tab's session storage, never in a cookie), so the file is fetched with it and handed to the
 * browser as a blob.
 */
export async function downloadCsv(path: string, fallbackName: string): Promise<void> {
  const response = await fetch(new URL(path, window.location.href), {
    headers: { Authorization: `Bearer ${storedToken() ?? ""}`, Accept: "text/csv" },
  });
  if (!response.ok) throw new Error(await refusal(response));
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = fileName(response.headers.get("Content-Disposition")) ?? fallbackName;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has its own copy by the time the click returns; the URL only holds memory.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function fileName(disposition: string | null): string | null {
  const match = disposition?.match(/filename\*?=(?:UTF-8'')?"?([^";]+)"?/i);
  return match ? decodeURIComponent(match[1]) : null;
}

/** The API's own words for a refused export (a GraphQL-style error body, or plain text). */
async function refusal(response: Response): Promise<string> {
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { errors?: { message?: string }[]; message?: string; detail?: string };
    const message = body.errors?.[0]?.message ?? body.message ?? body.detail;
    if (message) return message;
  } catch {
    // not JSON: the text itself, if short enough to be a message
  }
  return text && text.length < 300 ? text : `The export failed (HTTP ${response.status}).`;
}

/** A button that downloads a CSV export, saying so while it works and in words when it fails. */
export function ExportButton({ path, fileName: name, label }: { path: string; fileName: string; label: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const onClick = async () => {
    setBusy(true);
    setError(null);
    try {
      await downloadCsv(path, name);
    } catch (e) {
      setError(e instanceof Error && e.message !== "Failed to fetch" ? e.message : "The server could not be reached. Try again.");
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="export">
      <button type="button" onClick={onClick} disabled={busy} aria-busy={busy}>
        {busy ? "Exporting…" : label}
      </button>
      {error && (
        <span role="alert" className="error">
          {error}
        </span>
      )}
    </span>
  );
}
