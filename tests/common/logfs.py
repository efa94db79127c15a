"""A FUSE passthrough file system for tests/attributes.rs (Debian's python3-fusepy, run with
/usr/bin/python3): mounts ROOT at MOUNT, appends one line per fsync/fsyncdir to LOG
("fsync <path>" / "fsyncdir <path>"), fails every fsync/fsyncdir with EIO while the file
FAIL exists, refuses every hard link with EPERM (as some FUSE and network file systems do)
while FAIL.nolink exists, and refuses to grow a file by truncating it (EPERM) while
FAIL.notrunc exists. Usage: logfs.py ROOT MOUNT LOG FAIL (runs in the foreground until
unmounted)."""

import errno
import os
import sys
import threading

from fusepy import FUSE, FuseOSError, Operations


class LogFS(Operations):
    def __init__(self, root, log, fail):
        self.root = root
        self.log = log
        self.fail = fail
        self.mutex = threading.Lock()

    def _p(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def _sync(self, kind, path):
        # Decide before logging: a test that switches failures on when it sees this line must
        # not change the outcome of the call that wrote it.
        failing = os.path.exists(self.fail)
        with self.mutex:
            with open(self.log, "a") as f:
                f.write(f"{kind} {path}\n")
        if failing:
            raise FuseOSError(errno.EIO)

    # metadata
    def access(self, path, mode):
        if not os.access(self._p(path), mode):
            raise FuseOSError(errno.EACCES)

    def getattr(self, path, fh=None):
        st = os.lstat(self._p(path))
        keys = ("st_atime", "st_ctime", "st_gid", "st_mode", "st_mtime", "st_nlink", "st_size",
                "st_uid", "st_ino")
        out = {k: getattr(st, k) for k in keys}
        for k in ("st_atime", "st_ctime", "st_mtime"):
            out[k] = getattr(st, k + "_ns") / 1e9
        return out

    def chmod(self, path, mode):
        os.chmod(self._p(path), mode)

    def chown(self, path, uid, gid):
        os.lchown(self._p(path), uid, gid)

    def utimens(self, path, times=None):
        os.utime(self._p(path), times, follow_symlinks=False)

    def statfs(self, path):
        st = os.statvfs(self._p(path))
        keys = ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree", "f_files",
                "f_flag", "f_frsize", "f_namemax")
        return {k: getattr(st, k) for k in keys}

    def readdir(self, path, fh):
        return [".", ".."] + os.listdir(self._p(path))

    def readlink(self, path):
        return os.readlink(self._p(path))

    # names
    def mkdir(self, path, mode):
        os.mkdir(self._p(path), mode)

    def rmdir(self, path):
        os.rmdir(self._p(path))

    def unlink(self, path):
        os.unlink(self._p(path))

    def rename(self, old, new):
        os.rename(self._p(old), self._p(new))

    def link(self, target, name):
        if os.path.exists(self.fail + ".nolink"):
            raise FuseOSError(errno.EPERM)
        os.link(self._p(name), self._p(target))

    def symlink(self, name, target):
        os.symlink(target, self._p(name))

    # data
    def open(self, path, flags):
        return os.open(self._p(path), flags)

    def create(self, path, mode, fi=None):
        return os.open(self._p(path), os.O_RDWR | os.O_CREAT | os.O_EXCL, mode)

    def read(self, path, size, offset, fh):
        return os.pread(fh, size, offset)

    def write(self, path, data, offset, fh):
        return os.pwrite(fh, data, offset)

    def truncate(self, path, length, fh=None):
        if os.path.exists(self.fail + ".notrunc") and length > os.lstat(self._p(path)).st_size:
            raise FuseOSError(errno.EPERM)
        if fh is None:
            os.truncate(self._p(path), length)
        else:
            os.ftruncate(fh, length)

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        os.close(fh)

    def fsync(self, path, datasync, fh):
        self._sync("fsync", path)
        os.fsync(fh)

    def fsyncdir(self, path, datasync, fh):
        self._sync("fsyncdir", path)
        fd = os.open(self._p(path), os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


if __name__ == "__main__":
    root, mount, log, fail = sys.argv[1:5]
    FUSE(LogFS(root, log, fail), mount, foreground=True, nothreads=False)
