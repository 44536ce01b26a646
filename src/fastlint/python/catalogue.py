"""The blocking-call catalogue: qualified call paths that block the thread they run on.

Each entry is one line, ``pattern: category``. A pattern is a canonical call path as the model
resolves it (see :mod:`fastlint.python.model`): ``()`` marks an instance, so
``httpx.Client().get`` is ``get`` called on an ``httpx.Client`` object. Pattern syntax:

- ``*`` matches one name (no dots, no ``()``): ``requests.Session().*``;
- ``{a,b}`` matches either alternative: ``subprocess.{run,call}``;
- ``[a-z]`` matches one character of a class, as in fnmatch;
- ``a.b`` also matches ``a().b`` when a user writes it (``supabase.Client.table`` matches
  ``supabase.Client().table``), so options need not know the ``()`` notation.

``SAFE`` lists paths that a broader pattern would catch but do not block (building a Redis
pipeline sends nothing). A new blocking function is a one-line change here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Callable, Optional

import libcst as cst

from fastlint.python.model import walk

if TYPE_CHECKING:
    from fastlint.python.model import CallSite
    from fastlint.python.module import PythonModule
    from fastlint.python.project import Project


@dataclass(frozen=True)
class BlockingLeaf:
    """A call that blocks the thread it runs on.

    ``category`` is a short label shown in chains (``HTTP``, ``sleep``, ``sync DB session``);
    ``description`` names the call (``requests.get``); ``suggestion`` says what to write instead.
    ``severity`` is ``"error"`` or ``"warning"`` (file I/O is a warning).
    """

    category: str
    description: str
    suggestion: str
    severity: str = "error"


# Decides whether one call site blocks, beyond the catalogue (sync SQLAlchemy sessions...).
LeafClassifier = Callable[["Project", "PythonModule", "CallSite"], Optional[BlockingLeaf]]


@dataclass(frozen=True)
class Category:
    label: str  # shown in chains: "requests.get (HTTP)"
    why: str  # completes "X() ..."
    suggestion: str  # what to write instead
    severity: str = "error"


CATEGORIES: dict[str, Category] = {
    "sleep": Category(
        "sleep",
        "blocks the event loop for every request",
        "use 'await asyncio.sleep()'",
    ),
    "http": Category(
        "HTTP",
        "is a synchronous HTTP call that freezes the event loop until the remote server answers",
        "use 'httpx.AsyncClient' or 'aiohttp' and await the request",
    ),
    "subprocess": Category(
        "subprocess",
        "waits for a child process on the event loop, stalling every request meanwhile",
        "use 'await asyncio.create_subprocess_exec()'",
    ),
    "file": Category(
        "file I/O",
        "does blocking file I/O on the event loop (cheap for small files, slow on network disks)",
        "use 'anyio.Path' / 'aiofiles' or 'await asyncio.to_thread(...)'",
        severity="warning",
    ),
    "password": Category(
        "password hashing",
        "is CPU-bound password hashing (~100 ms) that stalls every request while it runs",
        "run it with 'await asyncio.to_thread(...)'",
    ),
    "database": Category(
        "sync DB driver",
        "is a synchronous database call that freezes the event loop for the whole round trip",
        "use an async driver (asyncpg, psycopg AsyncConnection, aiosqlite, motor) or "
        "'await asyncio.to_thread(...)'",
    ),
    "cache": Category(
        "sync Redis",
        "is a synchronous Redis call that freezes the event loop for the whole round trip",
        "use 'redis.asyncio' and await the command",
    ),
    "network": Category(
        "blocking network I/O",
        "is blocking network I/O that freezes the event loop until the peer answers",
        "use an asyncio client (asyncio.open_connection, aiosmtplib) or "
        "'await asyncio.to_thread(...)'",
    ),
    "cloud": Category(
        "boto3",
        "is a synchronous AWS API call that freezes the event loop for the whole round trip",
        "use 'aioboto3' / 'aiobotocore' or 'await asyncio.to_thread(...)'",
    ),
    "queue": Category(
        "Celery publish",
        "publishes to the broker synchronously, freezing the event loop while it connects and "
        "sends",
        "publish with 'await asyncio.to_thread(task.delay, ...)' or use an async queue client",
    ),
    "broker": Category(
        "Celery broker round trip",
        "waits on the Celery broker or result backend synchronously, freezing the event loop "
        "for the round trip (an inspect() broadcast waits a full second for replies)",
        "run it with 'await asyncio.to_thread(...)'",
    ),
    "input": Category(
        "console input",
        "waits for a line on stdin, which never comes in a server and freezes the event loop",
        "read configuration from settings or environment variables instead",
    ),
    "cpu": Category(
        "CPU-bound",
        "is CPU-bound work (decoding, parsing or resizing a whole file) that stalls every "
        "request while it runs",
        "run it with 'await asyncio.to_thread(...)' or in a worker process",
    ),
    "api": Category(
        "sync API client",
        "is a synchronous API client call that freezes the event loop until the service "
        "answers (seconds for an LLM)",
        "use the SDK's async client ('openai.AsyncOpenAI', supabase's 'acreate_client') and "
        "await the call",
    ),
    "upload": Category(
        "sync upload file",
        "reads or writes the upload's SpooledTemporaryFile synchronously (it spills to disk "
        "past 1 MB)",
        "use 'await upload.read()' / 'await upload.write()'",
        severity="warning",
    ),
    "jobstore": Category(
        "SQLAlchemy job store",
        "reads or writes the scheduler's SQLAlchemyJobStore, a synchronous database round trip "
        "that freezes the event loop (APScheduler's job stores are sync, even under "
        "AsyncIOScheduler)",
        # {method}: the scheduler method called (filled in by fastlint.python.jobstores)
        "run it with 'await run_in_threadpool(scheduler.{method}, ...)' or "
        "'await asyncio.to_thread(scheduler.{method}, ...)'",
        severity="warning",
    ),
    "custom": Category(
        "blocking-calls option",
        "is listed as blocking in the 'blocking-calls' option and freezes the event loop",
        "use an async alternative or 'await asyncio.to_thread(...)'",
    ),
}

_HTTP_VERBS = "{get,post,put,patch,delete,head,options,request}"
_CURSOR_OPS = "{execute,executemany,fetchone,fetchall,fetchmany,callproc}"
_MONGO_OPS = (
    "{find,find_one,insert_one,insert_many,update_one,update_many,delete_one,delete_many,"
    "replace_one,count_documents,estimated_document_count,aggregate,distinct,bulk_write,"
    "find_one_and_update,find_one_and_delete,find_one_and_replace,create_index,create_indexes,"
    "drop,drop_index,list_indexes,index_information,rename,watch}"
)
_MONGO_DB_OPS = (
    "{command,list_collection_names,list_collections,create_collection,drop_collection,"
    "validate_collection}"
)
_SUPABASE_BUILDERS = "{table,from_,rpc}"


def _fluent(root: str, last: str, longest: int = 6) -> dict[str, str]:
    """Builder chains of any length up to ``longest`` from ``root`` to ``last``:
    ``supabase.create_client().table().select().eq().execute``."""
    return {root + "().*" * count + f"().{last}": "api" for count in range(longest + 1)}


CATALOGUE: dict[str, str] = {
    # sleep
    "time.sleep": "sleep",
    # HTTP
    f"requests.{_HTTP_VERBS}": "http",
    f"requests.api.{_HTTP_VERBS}": "http",
    f"requests.{{Session,session}}().{_HTTP_VERBS}": "http",
    "requests.{Session,session}().send": "http",
    f"requests.sessions.Session().{_HTTP_VERBS}": "http",
    f"httpx.{_HTTP_VERBS}": "http",
    "httpx.stream": "http",
    f"httpx.Client().{_HTTP_VERBS}": "http",
    "httpx.Client().{send,stream}": "http",
    "urllib.request.urlopen": "http",
    "urllib.request.build_opener().open": "http",
    "urllib3.request": "http",
    "urllib3.{PoolManager,ProxyManager,HTTPConnectionPool,HTTPSConnectionPool}().{request,urlopen,"
    "request_encode_url,request_encode_body}": "http",
    "http.client.{HTTPConnection,HTTPSConnection}().{request,getresponse,connect,send}": "http",
    # subprocess / OS
    "subprocess.{run,call,check_call,check_output,Popen,getoutput,getstatusoutput}": "subprocess",
    "subprocess.Popen().{wait,communicate}": "subprocess",
    "os.{system,popen}": "subprocess",
    "os.spawn*": "subprocess",
    "os.{wait,wait3,wait4,waitid,waitpid}": "subprocess",
    # files (warning)
    "builtins.open": "file",
    "io.open": "file",
    "pathlib.{Path,PosixPath,WindowsPath}().{open,read_text,read_bytes,write_text,write_bytes}": (
        "file"
    ),
    "shutil.{copy,copy2,copyfile,copyfileobj,copytree,move,rmtree}": "file",
    # password hashing and KDFs
    "bcrypt.{hashpw,checkpw,kdf}": "password",
    "passlib.context.CryptContext().{hash,verify,verify_and_update,encrypt,dummy_verify}": (
        "password"
    ),
    "passlib.hash.*.{hash,verify,encrypt}": "password",
    "pwdlib.PasswordHash().{hash,verify,verify_and_update}": "password",
    "pwdlib.PasswordHash.recommended().{hash,verify,verify_and_update}": "password",
    "argon2.PasswordHasher().{hash,verify}": "password",
    "hashlib.{pbkdf2_hmac,scrypt}": "password",
    # sync database drivers
    "sqlite3.connect": "database",
    "sqlite3.connect().{execute,executemany,executescript,commit,rollback}": "database",
    f"sqlite3.connect().cursor().{_CURSOR_OPS}": "database",
    "psycopg2.connect": "database",
    "psycopg2.connect().{commit,rollback}": "database",
    f"psycopg2.connect().cursor().{_CURSOR_OPS}": "database",
    "psycopg.{connect,Connection.connect}": "database",
    "psycopg.{connect,Connection.connect}().{execute,commit,rollback}": "database",
    f"psycopg.{{connect,Connection.connect}}().cursor().{_CURSOR_OPS}": "database",
    "pymysql.connect": "database",
    "pymysql.connect().{commit,rollback}": "database",
    f"pymysql.connect().cursor().{_CURSOR_OPS}": "database",
    "mysql.connector.connect": "database",
    "mysql.connector.connect().{commit,rollback}": "database",
    f"mysql.connector.connect().cursor().{_CURSOR_OPS}": "database",
    f"pymongo.MongoClient().*.*.{_MONGO_OPS}": "database",
    f"pymongo.MongoClient().*.{{get_collection,get_database}}().{_MONGO_OPS}": "database",
    f"pymongo.MongoClient().{{get_database,get_default_database}}().*.{_MONGO_OPS}": "database",
    f"pymongo.MongoClient().*.{_MONGO_DB_OPS}": "database",
    "pymongo.MongoClient().{list_database_names,server_info,drop_database,admin.command}": (
        "database"
    ),
    f"pymongo.{{database.Database,Database}}().*.{_MONGO_OPS}": "database",
    f"pymongo.{{database.Database,Database}}().{_MONGO_DB_OPS}": "database",
    f"pymongo.{{collection.Collection,Collection}}().{_MONGO_OPS}": "database",
    "oracledb.connect": "database",
    "oracledb.connect().{commit,rollback}": "database",
    f"oracledb.connect().cursor().{_CURSOR_OPS}": "database",
    "MySQLdb.connect": "database",
    "MySQLdb.connect().{commit,rollback}": "database",
    f"MySQLdb.connect().cursor().{_CURSOR_OPS}": "database",
    f"psycopg2.pool.{{SimpleConnectionPool,ThreadedConnectionPool}}().getconn().cursor()."
    f"{_CURSOR_OPS}": "database",
    # sync Redis (redis.asyncio.* is a different path and never matches)
    "redis.{Redis,StrictRedis}().*": "cache",
    "redis.{Redis,StrictRedis}.from_url().*": "cache",
    "redis.client.{Redis,StrictRedis}().*": "cache",
    "redis.from_url().*": "cache",
    "redis.{Redis,StrictRedis}().pipeline().execute": "cache",
    # blocking network clients
    "smtplib.{SMTP,SMTP_SSL}": "network",
    "smtplib.{SMTP,SMTP_SSL}().{connect,login,starttls,ehlo,sendmail,send_message,quit}": "network",
    "ftplib.{FTP,FTP_TLS}": "network",
    "ftplib.{FTP,FTP_TLS}().*": "network",
    "socket.{create_connection,getaddrinfo,gethostbyname,gethostbyaddr}": "network",
    "socket.{socket,create_connection}().{connect,accept,recv,recv_into,recvfrom,send,sendall,"
    "sendto,makefile}": "network",
    # AWS SDK
    "boto3.client().*": "cloud",
    "boto3.resource().*().[a-z]*": "cloud",  # actions are lowercase; Bucket(), Object() are local
    "boto3.{Session,session.Session}().client().*": "cloud",
    "boto3.{Session,session.Session}().resource().*().[a-z]*": "cloud",
    # task queues (the .delay / .apply_async form is recognised in callgraph.py)
    "celery.Celery().send_task": "queue",
    # a broadcast that waits (1 s by default) for every worker's reply
    "celery.Celery().control.inspect().{active,reserved,scheduled,stats,registered,revoked,"
    "ping,active_queues,query_task,conf,report}": "broker",
    "celery.Celery().control.{ping,broadcast,revoke,purge,terminate}": "broker",
    # a round trip to the result backend
    "celery.{result.AsyncResult,AsyncResult}().{get,ready,successful,failed,wait,forget,"
    "revoke}": "broker",
    # sync API clients (LLMs: seconds per call)
    "openai.{OpenAI,AzureOpenAI}().*.{create,retrieve,list,delete,parse}": "api",
    "openai.{OpenAI,AzureOpenAI}().*.*.{create,retrieve,list,delete,parse}": "api",
    "anthropic.Anthropic().*.{create,count_tokens}": "api",
    **_fluent(f"supabase.{{create_client,Client}}().{_SUPABASE_BUILDERS}", "execute"),
    **_fluent("supabase.{create_client,Client}().storage.from_", "{upload,download,remove,list}"),
    "supabase.{create_client,Client}().auth.{sign_in_with_password,sign_up,get_user,sign_out}": (
        "api"
    ),
    # CPU-bound work on whole files
    "pandas.{read_excel,read_csv,read_parquet,read_json,read_sql}": "cpu",
    "pandas.{read_excel,read_csv,read_parquet,read_json,read_sql}().{to_excel,to_csv}": "cpu",
    "pandas.DataFrame().{to_excel,to_csv,to_parquet}": "cpu",
    "PIL.Image.open": "cpu",
    "PIL.Image.open().{resize,save,thumbnail,convert,rotate,crop,load,verify}": "cpu",
    "qrcode.make": "cpu",
    "qrcode.QRCode().make_image": "cpu",
    "face_recognition.{load_image_file,face_encodings,face_locations,compare_faces,"
    "face_distance}": "cpu",
    "cv2.{imread,imwrite,imdecode,imencode,resize,cvtColor,GaussianBlur,VideoCapture}": "cpu",
    # an upload's SpooledTemporaryFile, read synchronously
    "fastapi.{UploadFile,datastructures.UploadFile}().file.{read,write,readlines}": "upload",
    "starlette.datastructures.UploadFile().file.{read,write,readlines}": "upload",
    # console
    "builtins.input": "input",
}

# APScheduler 3 methods that read or write a job store (add_job only once the scheduler runs;
# before start() jobs wait in memory). They block only when the store does: which store a
# scheduler has is read from its configuration (:mod:`fastlint.python.jobstores`).
JOB_STORE_METHODS = (
    "apscheduler.schedulers.*.*().{add_job,get_jobs,get_job,remove_job,modify_job,reschedule_job,"
    "pause_job,resume_job,remove_all_jobs}"
)
# Job stores that talk to a database synchronously, and the ``{"type": ...}`` alias of each.
SYNC_JOB_STORES: dict[str, str] = {
    "apscheduler.jobstores.sqlalchemy.SQLAlchemyJobStore": "sqlalchemy"
}

# Paths a broader pattern above catches but that do not block.
SAFE: tuple[str, ...] = (
    "redis.{Redis,StrictRedis}().{pipeline,pubsub,lock,register_script}",
    "redis.{Redis,StrictRedis}.from_url().{pipeline,pubsub,lock,register_script}",
    "redis.client.{Redis,StrictRedis}().{pipeline,pubsub,lock,register_script}",
    "redis.from_url().{pipeline,pubsub,lock,register_script}",
    # Built locally, no request: paginators, waiters, presigned URLs.
    "boto3.client().{get_paginator,get_waiter,can_paginate,generate_presigned_url,"
    "generate_presigned_post,close}",
    "boto3.{Session,session.Session}().client().{get_paginator,get_waiter,can_paginate,"
    "generate_presigned_url,generate_presigned_post,close}",
)

# Calls that return at once when an argument names this flag: ``os.waitpid(-1, os.WNOHANG)``
# polls for exited children instead of waiting for one.
NON_BLOCKING_FLAGS: dict[str, str] = {
    "os.waitpid": "WNOHANG",
    "os.wait3": "WNOHANG",
    "os.wait4": "WNOHANG",
    "os.waitid": "WNOHANG",
}


def passes_non_blocking_flag(path: str | None, call: cst.Call) -> bool:
    """Whether ``call`` (resolved to ``path``) is told not to block, e.g. ``os.WNOHANG``."""
    flag = NON_BLOCKING_FLAGS.get(path or "")
    if flag is None:
        return False
    return any(walk(arg.value, lambda n: _names(n, flag)) for arg in call.args)


def _names(node: cst.CSTNode, flag: str) -> bool:
    return (isinstance(node, cst.Name) and node.value == flag) or (
        isinstance(node, cst.Attribute) and node.attr.value == flag
    )


# ---------------------------------------------------------------------------- matching


def _translate(pattern: str) -> str:
    """A catalogue pattern as a regular expression (see the module docstring)."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "*":
            out.append(r"[^.()]*")
        elif char == "{":
            end = pattern.index("}", index)
            alternatives = pattern[index + 1 : end].split(",")
            out.append("(?:" + "|".join(_translate(alt.strip()) for alt in alternatives) + ")")
            index = end
        elif char == "[":
            end = pattern.index("]", index)
            out.append(pattern[index : end + 1])  # a character class, as in fnmatch
            index = end
        elif char == ".":
            out.append(r"(?:\(\))?\.")
        else:
            out.append(re.escape(char))
        index += 1
    return "".join(out)


@cache
def _compile(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{_translate(p)})" for p in patterns))


def _first_word(pattern: str) -> str:
    return re.split(r"[.({*]", pattern, maxsplit=1)[0]


@cache
def _by_category() -> dict[str, re.Pattern[str] | None]:
    grouped: dict[str, list[str]] = {}
    for pattern, category in CATALOGUE.items():
        grouped.setdefault(category, []).append(pattern)
    return {category: _compile(tuple(items)) for category, items in grouped.items()}


# Every catalogue pattern starts with a plain module name: a path whose first word is not one
# of them cannot match, which keeps lookups cheap for the common case.
_ROOTS = frozenset(_first_word(pattern) for pattern in CATALOGUE)


def display(path: str) -> str:
    """A resolved path as users write it: ``httpx.Client().get`` → ``httpx.Client.get``."""
    text = path.replace("()", "").replace(".[]", "[]")
    return text[len("builtins.") :] if text.startswith("builtins.") else text


def leaf_for(category_key: str, path: str) -> BlockingLeaf:
    category = CATEGORIES[category_key]
    return BlockingLeaf(
        category=category.label,
        description=display(path),
        suggestion=category.suggestion,
        severity=category.severity,
    )


def why(leaf: BlockingLeaf) -> str:
    """The production consequence for a leaf's category (for messages)."""
    for category in CATEGORIES.values():
        if category.label == leaf.category:
            return category.why
    return "blocks the event loop, stalling every request while it runs"


def touches_job_store(path: str | None) -> bool:
    """Whether ``path`` is a scheduler method that reads or writes its job store."""
    pattern = _compile((JOB_STORE_METHODS,))
    return bool(path) and pattern is not None and pattern.fullmatch(path or "") is not None


def match(path: str | None, extra: tuple[str, ...] = ()) -> BlockingLeaf | None:
    """The catalogue entry (or ``blocking-calls`` option entry) that ``path`` matches."""
    if not path:
        return None
    if _first_word(path) in _ROOTS:
        safe = _compile(SAFE)
        if safe is None or not safe.fullmatch(path):
            for category, regex in _by_category().items():
                if regex is not None and regex.fullmatch(path):
                    return leaf_for(category, path)
    custom = _compile(tuple(extra))
    if custom is not None and custom.fullmatch(path):
        return leaf_for("custom", path)
    return None
