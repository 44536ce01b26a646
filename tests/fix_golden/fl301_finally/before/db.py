from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

engine = create_engine("postgresql://db/app")
SessionLocal = sessionmaker(bind=engine)


def get_db():
    db = SessionLocal()
    # Hand the session to the endpoint.
    yield db
    db.close()


class Repository:
    def read_raw(self) -> list:
        conn = engine.connect()
        rows = list(conn.exec_driver_sql("select 1"))  # one row
        conn.close()
        return rows
