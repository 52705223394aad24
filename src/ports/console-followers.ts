// Who follows which instance's console (Hypervisor.watchConsole), for every driver: each piece of
// output goes to the instance's followers in order; a follower that throws is dropped rather
// than allowed to stop the guest's output reaching the others.

export type ConsoleListener = (text: string) => void;

export class ConsoleFollowers {
  private readonly byInstance = new Map<string, Set<ConsoleListener>>();

  /** Adds a follower; returns the function that removes it. */
  add(instanceId: string, listener: ConsoleListener): () => void {
    let set = this.byInstance.get(instanceId);
    if (!set) this.byInstance.set(instanceId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (!set.size && this.byInstance.get(instanceId) === set) this.byInstance.delete(instanceId);
    };
  }

  deliver(instanceId: string, text: string): void {
    const set = this.byInstance.get(instanceId);
    if (!set || !text) return;
    for (const l of [...set]) {
      try {
        l(text);
      } catch {
        set.delete(l);
      }
    }
  }

  /** The instance is terminated: nothing more will come. */
  forget(instanceId: string): void {
    this.byInstance.delete(instanceId);
  }
}
