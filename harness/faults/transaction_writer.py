"""The child process of an aborted-transaction fault: write records in a transaction,
say so, and wait to be killed before the commit.

    python -m harness.faults.transaction_writer BOOTSTRAP TOPIC KEY_FIELD RECORDS.jsonl \\
        TRANSACTIONAL_ID TRANSACTION_TIMEOUT_MS
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

from confluent_kafka import Producer


def main(argv: list[str]) -> int:
    bootstrap, topic, key_field, records_path, transactional_id, timeout_ms = argv
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id,
                         "transaction.timeout.ms": int(timeout_ms)})
    producer.init_transactions(30)
    producer.begin_transaction()
    count = 0
    for line in Path(records_path).read_text().splitlines():
        record = json.loads(line)
        producer.produce(topic, value=line.encode(), key=str(record[key_field]).encode())
        count += 1
    if producer.flush(30):  # in the log, uncommitted: what a crash leaves behind
        print(f"failed: {len(producer)} records not written", flush=True)
        return 1
    print(f"written {count}", flush=True)
    threading.Event().wait()  # killed here, never committing
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
