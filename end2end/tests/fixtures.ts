// `test` with a guard: a page that logs an error (a wasm panic, a failed
// hydration) fails the test, even when every assertion passed.
import { test as base, expect, Page } from "@playwright/test";

/** Collects the errors `page` logs from now on. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(`page error: ${err.message}`));
  page.on("console", (message) => {
    // The browser itself logs every 4xx answer ("Failed to load resource"):
    // the not-found page and refused server-function calls are expected ones.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      errors.push(`console: ${message.text()}`);
    }
  });
  return errors;
}

export const test = base.extend<{ consoleGuard: void }>({
  consoleGuard: [
    async ({ page }, use) => {
      const errors = watchErrors(page);
      await use();
      expect(errors, "errors logged by the page").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
