/** Sign-in with the API's own e-mail and password (`POST /auth/login`). */
import { useState, type FormEvent } from "react";

import { useSession } from "../session";
import { Busy } from "../ui/Busy";
import { ErrorAlert } from "../ui/ErrorAlert";

export function SignIn() {
  const { signIn } = useSession();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(email, password);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="signin">
      <h1>Slotwise console</h1>
      <form onSubmit={submit} aria-busy={busy} className="form">
        <label>
          E-mail
          <input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          Password
          <input
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        {busy && <Busy label="Signing in…" />}
        <ErrorAlert error={error} />
      </form>
    </main>
  );
}
