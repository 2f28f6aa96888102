"""The portal in a real browser (Playwright, headless Chromium)."""
