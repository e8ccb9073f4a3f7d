import psycopg


def test_round_trip_rows_in_the_namespace_schema(postgres, namespace):
    schema = namespace.schema
    rows = [(i, f"ticker-{i}", i * 1.5) for i in range(1, 501)]
    with psycopg.connect(postgres.dsn) as conn:
        conn.execute(f'CREATE TABLE "{schema}".quotes (id int PRIMARY KEY, symbol text, '
                     "price double precision)")
        with conn.cursor() as cur:
            cur.executemany(f'INSERT INTO "{schema}".quotes VALUES (%s, %s, %s)', rows)
    with psycopg.connect(postgres.dsn) as conn:
        back = conn.execute(f'SELECT id, symbol, price FROM "{schema}".quotes ORDER BY id')
        assert back.fetchall() == rows


def test_cluster_is_ready_for_cdc(postgres):
    with psycopg.connect(postgres.dsn) as conn:
        settings = dict(conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('wal_level', 'synchronous_commit', 'listen_addresses')").fetchall())
    assert settings == {"wal_level": "logical", "synchronous_commit": "on",
                        "listen_addresses": "127.0.0.1"}
