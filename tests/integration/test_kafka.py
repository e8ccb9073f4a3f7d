from collections import Counter

from confluent_kafka import Consumer, Producer

RECORDS = 10_000


def test_keyed_records_round_trip_with_none_lost_or_duplicated(kafka, namespace):
    topic = namespace.create_topic("orders", partitions=3)
    producer = Producer({"bootstrap.servers": kafka.bootstrap_servers,
                         "enable.idempotence": True, "linger.ms": 5})
    acked, failed = [], []

    def on_delivery(err, msg):
        (failed if err else acked).append(msg.key())

    for i in range(RECORDS):
        producer.produce(topic, key=f"order-{i}".encode(), value=f'{{"id": {i}}}'.encode(),
                         on_delivery=on_delivery)
        producer.poll(0)
    assert producer.flush(30) == 0, "producer did not deliver everything within 30s"
    assert failed == []
    assert len(acked) == RECORDS

    consumer = Consumer({"bootstrap.servers": kafka.bootstrap_servers,
                         "group.id": namespace.group("reader"),
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    seen: Counter[bytes] = Counter()
    try:
        empty_polls = 0
        while len(seen) < RECORDS and empty_polls < 20:
            batch = consumer.consume(num_messages=1000, timeout=1.0)
            empty_polls = 0 if batch else empty_polls + 1
            for msg in batch:
                assert msg.error() is None, msg.error()
                seen[msg.key()] += 1
    finally:
        consumer.close()
    expected = {f"order-{i}".encode() for i in range(RECORDS)}
    assert set(seen) == expected, f"missing: {sorted(expected - set(seen))[:5]}"
    duplicates = [k for k, n in seen.items() if n > 1]
    assert duplicates == [], f"duplicated keys, e.g. {duplicates[:5]}"
