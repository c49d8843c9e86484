import { resolve } from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Two pages, built into the Python package (app/static/) and served by the app itself:
// the Settings dashboard at / and GraphiQL at /graphql. Nothing is loaded from elsewhere.
export default defineConfig({
  plugins: [react()],
  base: "/static/",
  build: {
    outDir: resolve(__dirname, "../app/static"),
    emptyOutDir: true,
    assetsDir: "assets",
    // Sources are in the repository; maps would only double the package.
    sourcemap: false,
    chunkSizeWarningLimit: 4000,
    rollupOptions: {
      input: {
        dashboard: resolve(__dirname, "index.html"),
        graphiql: resolve(__dirname, "graphiql.html"),
      },
    },
  },
  server: {
    // `npm run dev` next to `switchboard serve`: the API stays on its own port.
    proxy: { "/graphql": { target: "http://127.0.0.1:8000", ws: true }, "/export": { target: "http://127.0.0.1:8000" } },
  },
});
