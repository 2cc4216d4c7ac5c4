// What every FAKE D-Bus service under test/helpers (fake-resolved.ts, fake-networkmanager.ts) does
// the same way: own one well-known name on the (private) system bus, answer each method call with
// the service's own function, turn a thrown BusFailure into that D-Bus error (anything else into
// org.freedesktop.DBus.Error.Failed), leave Peer and Introspectable to dbus-next, say on stdout
// when the name is owned, and disconnect on SIGTERM. The fakes themselves say why they are fakes.
import { Message, MessageType, NameFlag, RequestNameReply, systemBus, type MessageBus } from 'dbus-next';

/** A D-Bus error reply: its error name (org.freedesktop.DBus.Error.*, or the service's own) and text. */
export class BusFailure extends Error {
  constructor(
    readonly dbusName: string,
    text: string,
  ) {
    super(text);
  }
}

/** A method return: its signature and body. */
export type Reply = [string, unknown[]];

/**
 * Connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS: the test's private bus). Answering starts
 * with serveFake, so the service can set up what its answers need (it may call on the bus) first.
 */
export function connectFake(label: string): MessageBus {
  const bus = systemBus();
  bus.on('error', (err: unknown) => {
    process.stderr.write(`${label}: bus error: ${String(err)}\n`);
    process.exit(1);
  });
  return bus;
}

/** Answers every method call with answer(msg) and owns name; resolves once it does. */
export async function serveFake(
  bus: MessageBus,
  label: string,
  name: string,
  answer: (msg: Message) => Reply | Promise<Reply>,
): Promise<void> {
  const handle = async (msg: Message): Promise<void> => {
    try {
      const [sig, body] = await answer(msg);
      bus.send(Message.newMethodReturn(msg, sig, body));
    } catch (err) {
      const e =
        err instanceof BusFailure ? err : new BusFailure('org.freedesktop.DBus.Error.Failed', String(err));
      // dbus-next's types declare newError's first parameter as a string; at runtime it is the
      // call being answered (lib/message-type.js reads its serial and sender).
      bus.send(Message.newError(msg as unknown as string, e.dbusName, e.message));
    }
  };
  bus.addMethodHandler((msg: Message) => {
    if (msg.type !== MessageType.METHOD_CALL) return false;
    if (
      msg.interface === 'org.freedesktop.DBus.Peer' ||
      msg.interface === 'org.freedesktop.DBus.Introspectable'
    )
      return false;
    void handle(msg);
    return true;
  });
  const got = await bus.requestName(name, NameFlag.DO_NOT_QUEUE);
  if (got !== RequestNameReply.PRIMARY_OWNER) throw new Error(`could not own ${name} (reply ${got})`);
  process.stdout.write(`${label}: owning ${name}\n`);
  process.on('SIGTERM', () => {
    bus.disconnect();
    process.exit(0);
  });
}
