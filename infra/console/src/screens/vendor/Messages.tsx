/** A booking's messages (`GET/POST /bookings/{id}/messages`): the thread between its customer and its advisor (or
 * vendor), oldest first, read again every few seconds while the page is open, and a box to write in. */
import { useEffect, useState, type FormEvent } from "react";

import { api, unwrap } from "../../api/client";
import type { Booking, Schemas } from "../../api/types";
import { Busy } from "../../ui/Busy";
import { ErrorAlert } from "../../ui/ErrorAlert";
import { formatDateTime } from "../../ui/time";

type Message = Schemas["Message"];

const REFRESH_MS = 5_000;

async function thread(bookingId: string): Promise<Message[]> {
  const messages: Message[] = [];
  let cursor: string | undefined;
  do {
    const page = await unwrap(
      api.GET("/api/v1/bookings/{bookingId}/messages", {
        params: { path: { bookingId }, query: { limit: 100, cursor } },
      }),
    );
    messages.push(...page.messages);
    cursor = page.pagination.nextCursor ?? undefined;
  } while (cursor && messages.length < 1000);
  return messages;
}

export function Messages({ booking }: { booking: Booking }) {
  const [messages, setMessages] = useState<Message[] | null>(null);
  const [text, setText] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [sending, setSending] = useState(false);

  useEffect(() => {
    let current = true;
    const read = () =>
      thread(booking.id)
        .then((found) => current && setMessages(found))
        .catch((failure: unknown) => current && setError(failure));
    void read();
    const timer = window.setInterval(() => void read(), REFRESH_MS);
    return () => {
      current = false;
      window.clearInterval(timer);
    };
  }, [booking.id]);

  async function send(event: FormEvent) {
    event.preventDefault();
    setSending(true);
    setError(null);
    try {
      const sent = await unwrap(
        api.POST("/api/v1/bookings/{bookingId}/messages", {
          params: { path: { bookingId: booking.id } },
          body: { text: text.trim() },
        }),
      );
      setMessages((before) => [...(before ?? []), sent]);
      setText("");
    } catch (failure) {
      setError(failure);
    } finally {
      setSending(false);
    }
  }

  return (
    <section className="card" aria-labelledby="messages-heading">
      <h2 id="messages-heading">Messages</h2>
      {messages === null && !error && <Busy label="Reading the messages…" />}
      {messages && messages.length === 0 && <p>No messages yet.</p>}
      {messages && messages.length > 0 && (
        <ol className="messages" aria-label="Messages, oldest first">
          {messages.map((message) => (
            <li key={message.id}>
              <span className="hint">
                {formatDateTime(message.createdAt, booking.timezone)} · {message.authorRole}
              </span>
              <p>{message.deleted ? <em>deleted by an administrator</em> : message.text}</p>
            </li>
          ))}
        </ol>
      )}
      <form className="form" onSubmit={(event) => void send(event)} aria-label="Write a message">
        <label>
          Message
          <textarea required maxLength={4000} rows={3} value={text} onChange={(e) => setText(e.target.value)} />
        </label>
        <div className="actions">
          <button type="submit" disabled={sending || !text.trim()}>
            Send
          </button>
        </div>
      </form>
      <ErrorAlert error={error} />
    </section>
  );
}
