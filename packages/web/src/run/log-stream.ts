import { ConsoleParser, type ConsoleModel } from "@causeway/core/console";
import { RunSchema, type RunJson } from "@causeway/protocol";
import { useEffect, useReducer, useState } from "react";
import { routeUrl } from "../api.js";

// A run's console through the logStream route (SSE): `log` events carry text from an offset,
// `end` the final run, after which the stream is closed (else EventSource would reopen it). A
// broken stream reopens by itself and resumes from the last offset (Last-Event-ID).

/** What the log stream gave so far. */
export interface LogView {
  readonly model: ConsoleModel;
  readonly partial: string;
  readonly state: "streaming" | "ended" | "broken";
  readonly endRun: RunJson | null;
}

/** Streams run `id`'s console. */
export function useLogStream(id: number): LogView {
  const [parser, setParser] = useState(() => new ConsoleParser());
  const [, repaint] = useReducer((n: number) => n + 1, 0);
  const [state, setState] = useState<LogView["state"]>("streaming");
  const [endRun, setEndRun] = useState<RunJson | null>(null);

  useEffect(() => {
    const p = new ConsoleParser();
    setParser(p);
    setState("streaming");
    setEndRun(null);
    let read = 0;
    const source = new EventSource(routeUrl("logStream", { params: { id } }));
    source.addEventListener("log", (event: MessageEvent<string>) => {
      const data = JSON.parse(event.data) as { offset: number; text: string };
      // A resumed stream starts where the last one stopped; never read a byte twice.
      if (data.offset < read) return;
      read = data.offset + new TextEncoder().encode(data.text).byteLength;
      p.push(data.text);
      setState("streaming");
      repaint();
    });
    source.addEventListener("end", (event: MessageEvent<string>) => {
      source.close();
      p.end();
      const run = RunSchema.safeParse(JSON.parse(event.data));
      if (run.success) setEndRun(run.data);
      setState("ended");
      repaint();
    });
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) setState("broken");
    };
    return () => source.close();
  }, [id]);

  return { model: parser.model, partial: parser.partialLine, state, endRun };
}
