import { defineConfig } from "vitest/config";
import preact from "@preact/preset-vite";
import { VitePWA } from "vite-plugin-pwa";
import { pdfFontsPlugin } from "./scripts/pdf-fonts.ts";

export default defineConfig({
  plugins: [
    preact(),
    pdfFontsPlugin(),
    VitePWA({
      // Our own service worker (src/sw/sw.ts); the plugin only injects the
      // list of files to precache and writes the manifest.
      strategies: "injectManifest",
      srcDir: "src/sw",
      filename: "sw.ts",
      injectRegister: false,
      includeManifestIcons: false,
      injectManifest: {
        // The PDF fonts (ttf) too, so PDFs can be made offline.
        globPatterns: ["**/*.{js,css,html,wasm,png,svg,webmanifest,ttf}"],
        // Automerge's WebAssembly is about 3.6 MB (1.2 MB gzipped); the app cannot work without it.
        maximumFileSizeToCacheInBytes: 8 * 1024 * 1024,
      },
      manifest: {
        id: "/",
        name: "Fieldbook — CPD notes",
        short_name: "Fieldbook",
        description: "Capture CPD notes in the field, finish them at the desk.",
        start_url: "/",
        scope: "/",
        display: "standalone",
        orientation: "any",
        background_color: "#f6f7f5",
        theme_color: "#0b5752",
        lang: "en-GB",
        icons: [
          { src: "/icons/icon-192.png", sizes: "192x192", type: "image/png", purpose: "any" },
          { src: "/icons/icon-512.png", sizes: "512x512", type: "image/png", purpose: "any" },
          { src: "/icons/maskable-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
        ],
      },
    }),
  ],
  build: {
    target: "es2022",
    // Keep the WebAssembly as its own file so it is compiled while streaming
    // and cached apart from the app's JavaScript.
    assetsInlineLimit: 0,
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
    setupFiles: ["src/test-setup.ts"],
  },
});
