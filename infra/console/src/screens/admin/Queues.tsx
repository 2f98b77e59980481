/** Work queues and their dead-letter queues (`GET /admin/queues`): messages waiting, in flight and dead-lettered,
 * refreshed every few seconds; a queue with dead letters can be redriven (`POST /admin/queues/{name}/redrive`
 * moves them back to it, a batch per call; consumers deduplicate, so a message handled before is not handled
 * twice). */
import { useEffect, useState } from "react";

import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { Busy } from "../../ui/Busy";
import { ErrorAlert } from "../../ui/ErrorAlert";
import { useLoad } from "../../ui/useLoad";
import "../../ui/screens.css";

type Queue = components["schemas"]["QueueList"]["items"][number];

const REFRESH_MS = 10_000;

export function Queues() {
  const queues = useLoad(() => unwrap(api.GET("/api/v1/admin/queues")), []);
  const [done, setDone] = useState<string | null>(null);
  const { reload } = queues;

  useEffect(() => {
    const timer = window.setInterval(reload, REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [reload]);

  const items = queues.data?.items ?? [];
  const dead = items.reduce((sum, queue) => sum + (queue.deadLetter?.visible ?? 0), 0);
  return (
    <section>
      <h1>Queues</h1>
      <div className="toolbar">
        <button type="button" className="secondary" onClick={reload} disabled={queues.loading}>
          Refresh
        </button>
        <span className="hint">Refreshed every {REFRESH_MS / 1000} s.</span>
      </div>
      <div role="status" aria-live="polite">
        {done && <p className="notice">{done}</p>}
      </div>
      <ErrorAlert error={queues.error} />
      <div aria-busy={queues.loading}>
        {queues.loading && !queues.data && <Busy label="Reading queue depths…" />}
        {queues.data && (
          <>
            <p>
              {items.length} queues · <strong>{dead}</strong> dead-lettered message{dead === 1 ? "" : "s"}
            </p>
            <div className="table-wrap">
              <table>
                <caption className="visually-hidden">Queue depths</caption>
                <thead>
                  <tr>
                    <th scope="col">Queue</th>
                    <th scope="col">Waiting</th>
                    <th scope="col">In flight</th>
                    <th scope="col">Dead-letter queue</th>
                    <th scope="col">Dead letters</th>
                    <th scope="col">Redrive</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((queue) => (
                    <QueueRow
                      key={queue.name}
                      queue={queue}
                      onRedriven={(moved) => {
                        setDone(`${queue.name}: ${moved} message${moved === 1 ? "" : "s"} moved back.`);
                        reload();
                      }}
                    />
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </div>
    </section>
  );
}

function QueueRow({ queue, onRedriven }: { queue: Queue; onRedriven: (moved: number) => void }) {
  const [working, setWorking] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const dead = queue.deadLetter?.visible ?? 0;

  async function redrive() {
    setWorking(true);
    setError(null);
    try {
      const answer = await unwrap(
        api.POST("/api/v1/admin/queues/{name}/redrive", { params: { path: { name: queue.name } } }),
      );
      onRedriven(answer.moved ?? 0);
    } catch (failure) {
      setError(failure);
    } finally {
      setWorking(false);
    }
  }

  return (
    <tr data-queue={queue.name}>
      <th scope="row">{queue.name}</th>
      <td>{queue.visible ?? 0}</td>
      <td>{queue.inFlight ?? 0}</td>
      <td>{queue.deadLetter?.name ?? "—"}</td>
      <td>{dead > 0 ? <span className="badge cancelled">{dead}</span> : 0}</td>
      <td>
        <button type="button" onClick={() => void redrive()} disabled={working || dead === 0}>
          Redrive<span className="visually-hidden"> {queue.name}</span>
        </button>
        {working && <Busy label="Moving messages…" />}
        <ErrorAlert error={error} />
      </td>
    </tr>
  );
}
