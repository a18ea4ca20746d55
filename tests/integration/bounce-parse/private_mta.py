"""Running an MTA that is not installed (Exim, OpenSMTPD: Debian lets only one mail-transport-agent
in, and Postfix is it) from its unpacked package, as root, in a private mount namespace that
gives it the system users and directories its binary expects. Used by make_exim_samples.py
and make_opensmtpd_samples.py; nothing outside the namespace changes."""
import pathlib


def namespace_prelude(work, users, tmpfs=()):
    """Shell commands, to run first under `unshare -m`: bind-mount copies of /etc/passwd and
    /etc/group with users added ({name: uid}, each with its own group) and mount an empty tmpfs
    on each directory of tmpfs."""
    work = pathlib.Path(work)
    passwd, group = work / "passwd", work / "group"
    passwd.write_text(pathlib.Path("/etc/passwd").read_text()
                      + "".join(f"{name}:x:{uid}:{uid}::/nonexistent:/usr/sbin/nologin\n" for name, uid in users.items()))
    group.write_text(pathlib.Path("/etc/group").read_text()
                     + "".join(f"{name}:x:{uid}:\n" for name, uid in users.items()))
    mounts = [f"mount --bind {passwd} /etc/passwd", f"mount --bind {group} /etc/group"]
    mounts += [f"mount -t tmpfs tmpfs {directory}" for directory in tmpfs]
    return " && ".join(mounts) + " && "
