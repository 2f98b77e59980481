/** The local runtime's outbox: the e-mail the stack "sent" (captured by moto's SES; `GET /local/outbox`). Each
 * message shows its subject and recipients, its HTML in a sandboxed frame (no scripts, no same-origin access), its
 * text, and its attachments: the `.ics` invitation as text with a download. Deployed stacks have no outbox. */
import { useEffect, useState } from "react";

import { Busy } from "../../ui/Busy";
import { ErrorAlert } from "../../ui/ErrorAlert";
import { useLoad } from "../../ui/useLoad";
import { outboxList, outboxMail, type OutboxAttachment, type OutboxItem } from "./localApi";
import "../../ui/screens.css";

function when(value: string | null): string {
  if (!value) return "—";
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" }).format(new Date(value));
}

export function Outbox({ selected }: { selected: string | null }) {
  const list = useLoad(() => outboxList(), []);
  const items = list.data?.items ?? [];
  return (
    <section className="outbox">
      <h1>Outbox</h1>
      <p className="hint">
        E-mail the local stack sent (moto's SES keeps it in memory until the runtime stops). Local runtime only.
      </p>
      <div className="toolbar">
        <button type="button" className="secondary" onClick={list.reload} disabled={list.loading}>
          Refresh
        </button>
      </div>
      <ErrorAlert error={list.error} />
      <div className="outbox-panes" aria-busy={list.loading}>
        <div>
          {list.loading && !list.data && <Busy label="Reading the outbox…" />}
          {list.data && items.length === 0 && <p>No e-mail sent yet.</p>}
          {items.length > 0 && (
            <ul className="mail-list" aria-label="E-mail, newest first">
              {items.map((item) => (
                <MailLink key={item.id} item={item} current={item.id === selected} />
              ))}
            </ul>
          )}
        </div>
        <div>{selected ? <MailView id={selected} /> : items.length > 0 && <p>Choose an e-mail to read it.</p>}</div>
      </div>
    </section>
  );
}

function MailLink({ item, current }: { item: OutboxItem; current: boolean }) {
  return (
    <li>
      <a
        href={`#/outbox/${encodeURIComponent(item.id)}`}
        aria-current={current ? "true" : undefined}
        className={current ? "current" : undefined}
      >
        <strong>{item.subject || "(no subject)"}</strong>
        <span className="hint">
          to {item.to.join(", ")} · {when(item.time)}
        </span>
      </a>
    </li>
  );
}

function MailView({ id }: { id: string }) {
  const mail = useLoad(() => outboxMail(id), [id]);
  const [view, setView] = useState<"html" | "text">("html");
  const found = mail.data;
  useEffect(() => {
    if (found && !found.html) setView("text");
  }, [found]);

  return (
    <article className="card mail" aria-busy={mail.loading} aria-labelledby="mail-subject">
      <ErrorAlert error={mail.error} />
      {mail.loading && !found && <Busy label="Opening the e-mail…" />}
      {found && (
        <>
          <h2 id="mail-subject">{found.subject || "(no subject)"}</h2>
          <dl className="mail-headers">
            <dt>From</dt>
            <dd>{found.from}</dd>
            <dt>To</dt>
            <dd>{found.to.join(", ")}</dd>
            <dt>Sent</dt>
            <dd>{when(found.time)}</dd>
          </dl>
          <div className="actions" role="group" aria-label="Body">
            {found.html && (
              <button
                type="button"
                className={view === "html" ? "" : "secondary"}
                aria-pressed={view === "html"}
                onClick={() => setView("html")}
              >
                HTML
              </button>
            )}
            {found.text && (
              <button
                type="button"
                className={view === "text" ? "" : "secondary"}
                aria-pressed={view === "text"}
                onClick={() => setView("text")}
              >
                Text
              </button>
            )}
          </div>
          {view === "html" && found.html ? (
            // An empty sandbox: the mail's HTML runs no script and cannot reach this page or its tokens.
            <iframe className="mail-html" title={`HTML of “${found.subject}”`} sandbox="" srcDoc={found.html} />
          ) : (
            <pre className="mail-text">{found.text ?? ""}</pre>
          )}
          {found.attachments.length > 0 && (
            <>
              <h3>Attachments</h3>
              <ul className="attachments">
                {found.attachments.map((part, index) => (
                  <AttachmentView key={`${part.filename}-${index}`} part={part} />
                ))}
              </ul>
            </>
          )}
        </>
      )}
    </article>
  );
}

function AttachmentView({ part }: { part: OutboxAttachment }) {
  const [href, setHref] = useState<string | null>(null);
  useEffect(() => {
    const bytes = Uint8Array.from(atob(part.base64), (char) => char.charCodeAt(0));
    const url = URL.createObjectURL(new Blob([bytes], { type: part.contentType }));
    setHref(url);
    return () => URL.revokeObjectURL(url);
  }, [part]);
  const calendar = part.contentType === "text/calendar" || part.filename.endsWith(".ics");
  return (
    <li className="attachment">
      <p>
        <strong>{part.filename}</strong> <span className="hint">({part.contentType}, {part.size} bytes)</span>{" "}
        {href && (
          <a className="button secondary" href={href} download={part.filename}>
            Download<span className="visually-hidden"> {part.filename}</span>
          </a>
        )}
      </p>
      {part.text !== null && (calendar || part.size < 20_000) && (
        <pre className="attachment-text" aria-label={`${part.filename} as text`}>
          {part.text}
        </pre>
      )}
    </li>
  );
}
