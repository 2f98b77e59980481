import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { loadConfig } from "./config";
import { Layout } from "./Layout";
import { SignIn } from "./screens/SignIn";
import { SessionProvider, useSession } from "./session";
import { Busy } from "./ui/Busy";
import "./styles.css";

function App() {
  const { user, ready } = useSession();
  if (!ready) return <Busy label="Starting…" />;
  return user ? <Layout /> : <SignIn />;
}

void loadConfig().then(() => {
  const root = document.getElementById("root");
  if (!root) throw new Error("index.html has no #root");
  createRoot(root).render(
    <StrictMode>
      <SessionProvider>
        <App />
      </SessionProvider>
    </StrictMode>,
  );
});
