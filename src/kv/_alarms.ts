/** Active alarms, one per (member, alarm type), after etcd's AlarmStore. Replicated state. */
import { assert } from './errors.ts';
import { AlarmType, type AlarmMember } from './types.ts';

function precedes(left: AlarmMember, right: AlarmMember): boolean {
  return left.alarm < right.alarm || (left.alarm === right.alarm && left.memberId < right.memberId);
}

export class AlarmStore {
  /** Invariant: sorted by (alarm, memberId), no duplicates, no NONE alarm. */
  #alarms: AlarmMember[] = [];

  /** Alarms of one type, or all of them for NONE; in (alarm, member) order. */
  get(type: AlarmType): AlarmMember[] {
    return this.#alarms.filter((alarm) => type === AlarmType.None || alarm.alarm === type).map((alarm) => ({ ...alarm }));
  }

  has(type: AlarmType): boolean {
    return this.#alarms.some((alarm) => alarm.alarm === type);
  }

  /** Adds the alarm (if new) and returns it; NONE is not an alarm and is ignored. */
  activate(memberId: number, type: AlarmType): AlarmMember | null {
    if (type === AlarmType.None) return null;
    const existing = this.#alarms.find((alarm) => alarm.memberId === memberId && alarm.alarm === type);
    if (existing !== undefined) return { ...existing };
    const added: AlarmMember = { memberId, alarm: type };
    let index = 0;
    while (index < this.#alarms.length && precedes(this.#alarms[index] as AlarmMember, added)) index++;
    this.#alarms.splice(index, 0, added);
    assert(this.#alarms.every((alarm, at) => at === 0 || precedes(this.#alarms[at - 1] as AlarmMember, alarm)), 'alarms stay sorted');
    return { ...added };
  }

  /** Removes the alarm and returns it, or null if it was not active. */
  deactivate(memberId: number, type: AlarmType): AlarmMember | null {
    const index = this.#alarms.findIndex((alarm) => alarm.memberId === memberId && alarm.alarm === type);
    if (index === -1) return null;
    const [removed] = this.#alarms.splice(index, 1);
    assert(removed !== undefined, 'a found alarm is removed');
    return { ...removed };
  }

  replaceAll(alarms: readonly AlarmMember[]): void {
    this.#alarms = [];
    for (const alarm of alarms) this.activate(alarm.memberId, alarm.alarm);
  }
}
