import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { ApiError } from "./api/client";
import { App } from "./App";
import { startSessionCheck } from "./auth/session";
import { applyTheme, storedTheme } from "./lib/theme";
import "./index.css";

// Who is signed in is asked at once, alongside the screen's code (App.tsx starts loading it).
startSessionCheck();
applyTheme(storedTheme());
window.matchMedia?.("(prefers-color-scheme: dark)").addEventListener("change", () => applyTheme(storedTheme()));

const queryClient = new QueryClient({
  queryCache: new QueryCache(),
  defaultOptions: {
    queries: {
      // A refusal will not change by asking again; a network failure or 5xx may.
      retry: (count, e) => count < 3 && (!(e instanceof ApiError) || e.transient),
      retryDelay: (n) => Math.min(1000 * 2 ** n, 10_000),
      refetchOnWindowFocus: false,
      staleTime: 15_000,
    },
    mutations: { retry: false },
  },
});

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
