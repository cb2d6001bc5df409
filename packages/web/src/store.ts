import { createContext, useContext, useSyncExternalStore } from "react";
import { INITIAL_STATE, reduce, type Action, type AppState } from "./state.js";

// A small external store around the reducer: components subscribe to the slice they show
// (useSyncExternalStore with a selector), so a change repaints only the components whose
// slice changed.

/** The store of one app instance. */
export interface Store {
  readonly getState: () => AppState;
  readonly dispatch: (action: Action) => void;
  readonly subscribe: (listener: () => void) => () => void;
}

/** A store starting from `initial`. */
export function createStore(initial: AppState = INITIAL_STATE): Store {
  let state = initial;
  const listeners = new Set<() => void>();
  return {
    getState: () => state,
    dispatch(action) {
      const next = reduce(state, action);
      if (next === state) return;
      state = next;
      for (const listener of listeners) listener();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}

/** The app's store (provided once by App). */
export const StoreContext = createContext<Store | null>(null);

/** The app's store. */
export function useStore(): Store {
  const store = useContext(StoreContext);
  if (store === null) throw new Error("useStore outside StoreContext");
  return store;
}

/** The slice `select` picks; the component repaints only when that slice changes (by identity). */
export function useSlice<T>(select: (state: AppState) => T): T {
  const store = useStore();
  return useSyncExternalStore(store.subscribe, () => select(store.getState()));
}
