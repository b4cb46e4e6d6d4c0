import { afterEach, describe, expect, it } from "vitest";
import { act, cleanup, render, screen as dom } from "@testing-library/react";
import { Suspense } from "react";
import { screen } from "./screen";

function Hello({ who }: { who: string }) {
  return <p>Hello {who}</p>;
}

describe("screen", () => {
  afterEach(cleanup);

  it("renders a screen whose code is loaded at once, without its fallback", async () => {
    const S = screen(async () => ({ default: Hello }));
    expect(S.loaded).toBe(false);
    await S.preload();
    expect(S.loaded).toBe(true);
    render(
      <Suspense fallback={<p>Loading</p>}>
        <S who="desk" />
      </Suspense>,
    );
    // Synchronously: no suspension, so nothing for React to hold back.
    expect(dom.getByText("Hello desk")).toBeTruthy();
    expect(dom.queryByText("Loading")).toBeNull();
  });

  it("suspends while the code loads, loads it once, and tries again after a failed load", async () => {
    let calls = 0;
    let release: (m: { default: typeof Hello }) => void = () => {};
    const S = screen(() => {
      calls++;
      if (calls === 1) return Promise.reject<{ default: typeof Hello }>(new Error("chunk gone"));
      return new Promise<{ default: typeof Hello }>((r) => (release = r));
    });
    await expect(S.preload()).rejects.toThrow("chunk gone");
    await act(async () => {
      render(
        <Suspense fallback={<p>Loading</p>}>
          <S who="ward" />
        </Suspense>,
      );
    });
    expect(dom.getByText("Loading")).toBeTruthy();
    await act(async () => release({ default: Hello }));
    expect(dom.getByText("Hello ward")).toBeTruthy();
    await S.preload();
    expect(calls).toBe(2);
  });
});
