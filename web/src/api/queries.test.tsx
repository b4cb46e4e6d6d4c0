import { describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { prefetchPatientSummaries, SUMMARY_BATCH, summaryBatches, usePatientSummaries } from "./queries";

describe("summaryBatches", () => {
  it("asks for at most the API's page size of ids per request, every id once", () => {
    const ids = Array.from({ length: 2 * SUMMARY_BATCH + 7 }, (_, i) => `p${i}`);
    const batches = summaryBatches(ids);
    expect(batches.map((b) => b.length)).toEqual([SUMMARY_BATCH, SUMMARY_BATCH, 7]);
    expect(batches.flat()).toEqual(ids);
    expect(summaryBatches([])).toEqual([]);
  });
});

function Names({ ids }: { ids: string[] }) {
  const { byId, notFound } = usePatientSummaries(ids);
  return (
    <ul>
      {ids.map((id, i) => (
        <li key={i}>{byId.get(id)?.familyName ?? (notFound.has(id) ? "not found" : "…")}</li>
      ))}
    </ul>
  );
}

describe("usePatientSummaries", () => {
  it("names every patient from one request and shows them without waiting for another render", async () => {
    const summary = (id: string, familyName: string) => ({ id, mrn: `M-${id}`, givenName: "A", familyName, birthDate: "1990-01-01", sex: "female" });
    const f = vi.spyOn(globalThis, "fetch").mockImplementation(async () =>
      new Response(JSON.stringify({ success: true, data: { items: [summary("b", "Bravo"), summary("a", "Alpha")], nextPageToken: "" }, error: null, requestId: "r" }), {
        status: 200,
        headers: { "Content-Type": "application/json" },
      }),
    );
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(
      <QueryClientProvider client={qc}>
        <Names ids={["a", "b", "gone", "a"]} />
      </QueryClientProvider>,
    );
    expect(await screen.findByText("Bravo")).toBeTruthy();
    expect(screen.getAllByText("Alpha")).toHaveLength(2);
    expect(screen.getByText("not found")).toBeTruthy();
    expect(f).toHaveBeenCalledTimes(1);
    const [url, init] = f.mock.calls[0];
    expect(url).toBe("/v1/patients/search");
    expect(JSON.parse(String(init?.body))).toEqual({ ids: ["a", "b", "gone"], pageSize: 3 });
  });

  it("takes the request a prefetch of the same patients started (one request in all)", async () => {
    const summary = (id: string, familyName: string) => ({ id, mrn: `M-${id}`, givenName: "A", familyName, birthDate: "1990-01-01", sex: "female" });
    let answer: (r: Response) => void = () => {};
    const f = vi.spyOn(globalThis, "fetch").mockImplementation(() => new Promise<Response>((r) => (answer = r)));
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    prefetchPatientSummaries(qc, ["b", "a"]);
    expect(f).toHaveBeenCalledTimes(1);
    render(
      <QueryClientProvider client={qc}>
        <Names ids={["a", "b"]} />
      </QueryClientProvider>,
    );
    answer(
      new Response(JSON.stringify({ success: true, data: { items: [summary("a", "Alpha"), summary("b", "Bravo")], nextPageToken: "" }, error: null, requestId: "r" }), {
        status: 200,
        headers: { "Content-Type": "application/json" },
      }),
    );
    expect(await screen.findByText("Bravo")).toBeTruthy();
    expect(f).toHaveBeenCalledTimes(1);
    // Everyone named already: nothing more to fetch.
    prefetchPatientSummaries(qc, ["a", "b"]);
    expect(f).toHaveBeenCalledTimes(1);
  });
});
