import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Served under /console/ by the local runtime (infra/local/console.py) and by CloudFront when deployed.
export default defineConfig({
  base: "/console/",
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true },
});
