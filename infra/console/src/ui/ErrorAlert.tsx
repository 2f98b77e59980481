/** A failed call's problem+json as a message, in a live region screen readers announce. */
import { problemMessage } from "../api/client";

export function ErrorAlert({ error }: { error: unknown }) {
  if (error === null || error === undefined) return null;
  return (
    <div className="alert" role="alert">
      {problemMessage(error)}
    </div>
  );
}
