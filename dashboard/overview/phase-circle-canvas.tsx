/** The phase circle's canvas element and its animation loop's lifetime. */
import { useEffect, useRef } from "preact/hooks";
import { store } from "../live/store.js";
import { PhaseCircle } from "./phase-circle.js";

export function PhaseCircleCanvas({ label }: { label: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (canvas.current === null) return;
    const circle = new PhaseCircle(canvas.current, store);
    circle.start();
    return () => circle.stop();
  }, []);
  return <canvas ref={canvas} class="phase-circle" data-testid="phase-circle" role="img" aria-label={label} />;
}
