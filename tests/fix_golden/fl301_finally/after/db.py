from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine("postgresql://db/app")
SessionLocal = sessionmaker(bind=engine)


def get_db():
    db = SessionLocal()
    try:
        # Hand the session to the endpoint.
        yield db
    finally:
        db.close()


class Repository:
    def read_raw(self) -> list:
        conn = engine.connect()
        try:
            rows = list(conn.exec_driver_sql("select 1"))  # one row
        finally:
            conn.close()
        return rows
