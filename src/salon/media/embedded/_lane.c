/* The forwarding fast lane (docs/media-design.md §6.12): one subscriber slot's RTP
 * rewriting, SRTP protection and sending, in C.
 *
 * A forwarded packet is rewritten, protected and sent once per subscriber: at 50
 * subscribers that is the SFU's whole cost, and in Python it was ~20 µs a packet.
 * `fan_out` does it for every lane that is `enabled` in one call per incoming packet:
 * the steady state of a slot (its subscriber connected, nothing to wait for, a stream
 * without layers or encodings to choose from). Everything else — the first packet
 * after a rebase, keyframe waits, temporal layers, simulcast, resends — stays in
 * Python (downstream.py), which reads and writes the same state through a Lane's
 * attributes, and hands `enabled` back when the slot is steady again.
 *
 * SRTP is libsrtp's own `srtp_protect`, reached through the function pointer that
 * pylibsrtp's cffi binding exports, on the session aiortc negotiated (the same
 * context aiortc protects its RTCP with; everything runs on the event loop's thread).
 * Datagrams go out with sendto(2) on the socket of the subscriber's nominated ICE
 * pair, non-blocking: a full socket buffer drops the packet, as UDP does. The lane
 * holds its own dup(2) of that socket, closed when it is unbound: when aioice closes
 * its socket first, the number is never someone else's while the lane writes on it.
 *
 * lane.py has the same Lane in Python, used when this module was not built.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HISTORY 512
#define MAX_EXT 64
#define BUFFER 2048
/* libsrtp's SRTP_MAX_TRAILER_LEN: the most protection adds (tag and MKI). */
#define SRTP_TRAILER 144

typedef int (*protect_fn)(void *ctx, void *header, int *length);

typedef struct {
    PyObject_HEAD
    /* the steady state: fan_out may write this slot's packets */
    char enabled;
    char is_audio;
    /* our stream: SSRC, payload type, and our numbers = the source's + offsets */
    unsigned int ssrc;
    int payload_type;
    unsigned int seq_offset;
    unsigned int ts_offset;
    unsigned int next_seq;
    unsigned int last_ts;
    PyObject *last_time; /* float, or None before the first packet */
    /* figures: RTP packets and payload octets (sender reports), octets on the link
     * (the estimator's sent rate), frames sent, send errors */
    unsigned long long packets;
    unsigned long long payload_octets;
    unsigned long long octets;
    unsigned long long sent;
    unsigned long long send_errors;
    unsigned long long protect_errors;
    /* the header extension block: head + [abs-send-time] + [level id, level] + pad */
    unsigned char ext_head[MAX_EXT], ext_head_level[MAX_EXT], ext_pad[4], ext_pad_level[4];
    int ext_head_len, ext_head_level_len, ext_pad_len, ext_pad_level_len;
    char has_send_time;
    int level_id; /* the audio level element's first byte, or -1 */
    /* where datagrams go (bound when the subscriber's DTLS and ICE are up) */
    char bound;
    void *srtp;
    protect_fn protect;
    int fd;          /* our own dup of the pair's socket, or -1 */
    int max_packet;  /* the longest RTP packet the Python path can protect */
    struct sockaddr_storage address;
    socklen_t address_len;
    /* sent datagrams, for resends: by our sequence number mod HISTORY */
    PyObject *history[HISTORY];
    unsigned short history_seq[HISTORY];
    unsigned char history_resends[HISTORY];
} Lane;

static PyObject *Lane_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    Lane *self = (Lane *)type->tp_alloc(type, 0); /* zeroed */
    if (self == NULL)
        return NULL;
    self->fd = -1; /* never fd 0: dealloc closes what this holds */
    self->level_id = -1;
    Py_INCREF(Py_None);
    self->last_time = Py_None;
    return (PyObject *)self;
}

static int Lane_init(Lane *self, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"is_audio", NULL};
    int is_audio = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|p", names, &is_audio))
        return -1;
    self->is_audio = (char)is_audio;
    return 0;
}

static int Lane_traverse(Lane *self, visitproc visit, void *arg) {
    Py_VISIT(self->last_time);
    return 0;
}

static void close_fd(Lane *self) {
    if (self->fd >= 0)
        close(self->fd);
    self->fd = -1;
}

static int Lane_clear(Lane *self) {
    Py_CLEAR(self->last_time);
    for (int i = 0; i < HISTORY; i++)
        Py_CLEAR(self->history[i]);
    return 0;
}

static void Lane_dealloc(Lane *self) {
    PyObject_GC_UnTrack(self);
    close_fd(self);
    Lane_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int copy_bytes(PyObject *from, unsigned char *into, int room, int *length,
                      const char *what) {
    char *data;
    Py_ssize_t size;
    if (PyBytes_AsStringAndSize(from, &data, &size) < 0)
        return -1;
    if (size > room) {
        PyErr_Format(PyExc_ValueError, "%s is longer than %d bytes", what, room);
        return -1;
    }
    memcpy(into, data, size);
    *length = (int)size;
    return 0;
}

static PyObject *Lane_configure(Lane *self, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"ssrc", "payload_type", "ext_head", "ext_pad",
                            "ext_head_level", "ext_pad_level", "send_time", "level_id",
                            NULL};
    unsigned int ssrc;
    int payload_type, send_time, level_id;
    PyObject *head, *pad, *head_level, *pad_level;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "IiSSSSpi", names, &ssrc,
                                     &payload_type, &head, &pad, &head_level,
                                     &pad_level, &send_time, &level_id))
        return NULL;
    if (copy_bytes(head, self->ext_head, MAX_EXT, &self->ext_head_len, "ext_head") ||
        copy_bytes(pad, self->ext_pad, 4, &self->ext_pad_len, "ext_pad") ||
        copy_bytes(head_level, self->ext_head_level, MAX_EXT, &self->ext_head_level_len,
                   "ext_head_level") ||
        copy_bytes(pad_level, self->ext_pad_level, 4, &self->ext_pad_level_len,
                   "ext_pad_level"))
        return NULL;
    self->ssrc = ssrc;
    self->payload_type = payload_type & 0x7F;
    self->has_send_time = (char)send_time;
    self->level_id = level_id;
    Py_RETURN_NONE;
}

static PyObject *Lane_bind(Lane *self, PyObject *args) {
    unsigned long long srtp, protect;
    int fd, port, max_packet;
    const char *host;
    if (!PyArg_ParseTuple(args, "KKiisi", &srtp, &protect, &max_packet, &fd, &host, &port))
        return NULL;
    if (max_packet <= 0 || max_packet > BUFFER - SRTP_TRAILER) {
        PyErr_Format(PyExc_ValueError, "max_packet must be 1..%d", BUFFER - SRTP_TRAILER);
        return NULL;
    }
    memset(&self->address, 0, sizeof(self->address));
    struct sockaddr_in *v4 = (struct sockaddr_in *)&self->address;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&self->address;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((unsigned short)port);
        self->address_len = sizeof(*v4);
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((unsigned short)port);
        self->address_len = sizeof(*v6);
    } else {
        PyErr_Format(PyExc_ValueError, "%s is not an IP address", host);
        return NULL;
    }
    int own = dup(fd);
    if (own < 0)
        return PyErr_SetFromErrno(PyExc_OSError);
    close_fd(self);
    self->srtp = (void *)(uintptr_t)srtp;
    self->protect = (protect_fn)(uintptr_t)protect;
    self->max_packet = max_packet;
    self->fd = own;
    self->bound = 1;
    Py_RETURN_NONE;
}

static PyObject *Lane_unbind(Lane *self, PyObject *unused) {
    self->bound = 0;
    self->enabled = 0;
    self->srtp = NULL;
    self->protect = NULL;
    close_fd(self);
    Py_RETURN_NONE;
}

/* Protect `length` bytes of `buffer` (room for the trailer after them) and send them;
 * the datagram as bytes (also when sendto failed: it was written), Py_None when libsrtp
 * refused it (a packet far behind the newest: replay protection), NULL on error. */
static PyObject *protect_and_send(Lane *self, unsigned char *buffer, int length) {
    int status = self->protect(self->srtp, buffer, &length);
    if (status) {
        self->protect_errors++;
        Py_RETURN_NONE;
    }
    if (sendto(self->fd, buffer, (size_t)length, MSG_DONTWAIT | MSG_NOSIGNAL,
               (struct sockaddr *)&self->address, self->address_len) < 0)
        self->send_errors++;
    return PyBytes_FromStringAndSize((const char *)buffer, length);
}

static PyObject *Lane_write(Lane *self, PyObject *arg) {
    /* Protect and send one finished RTP packet (the Python path's); the datagram. */
    char *data;
    Py_ssize_t size;
    unsigned char buffer[BUFFER];
    if (!self->bound) {
        PyErr_SetString(PyExc_RuntimeError, "the lane is not bound to a transport");
        return NULL;
    }
    if (PyBytes_AsStringAndSize(arg, &data, &size) < 0)
        return NULL;
    if (size > self->max_packet) {
        self->protect_errors++; /* too long to protect: not sent, as the Python path */
        Py_RETURN_NONE;
    }
    memcpy(buffer, data, size);
    return protect_and_send(self, buffer, (int)size);
}

static PyObject *Lane_resend(Lane *self, PyObject *arg) {
    /* Send an already protected datagram again. */
    char *data;
    Py_ssize_t size;
    if (!self->bound) {
        PyErr_SetString(PyExc_RuntimeError, "the lane is not bound to a transport");
        return NULL;
    }
    if (PyBytes_AsStringAndSize(arg, &data, &size) < 0)
        return NULL;
    if (sendto(self->fd, data, (size_t)size, MSG_DONTWAIT | MSG_NOSIGNAL,
               (struct sockaddr *)&self->address, self->address_len) < 0)
        self->send_errors++;
    Py_RETURN_NONE;
}

static void keep(Lane *self, unsigned int seq, PyObject *datagram) {
    int i = seq % HISTORY;
    Py_INCREF(datagram);
    Py_XSETREF(self->history[i], datagram);
    self->history_seq[i] = (unsigned short)seq;
    self->history_resends[i] = 0;
}

static PyObject *Lane_keep(Lane *self, PyObject *args) {
    unsigned int seq;
    PyObject *datagram;
    if (!PyArg_ParseTuple(args, "IS", &seq, &datagram))
        return NULL;
    keep(self, seq & 0xFFFF, datagram);
    Py_RETURN_NONE;
}

static PyObject *Lane_kept(Lane *self, PyObject *arg) {
    /* (datagram, times resent) of our sequence number `seq`, or None. */
    unsigned long seq = PyLong_AsUnsignedLong(arg);
    if (seq == (unsigned long)-1 && PyErr_Occurred())
        return NULL;
    int i = seq % HISTORY;
    if (self->history[i] == NULL || self->history_seq[i] != (seq & 0xFFFF))
        Py_RETURN_NONE;
    return Py_BuildValue("(Oi)", self->history[i], (int)self->history_resends[i]);
}

static PyObject *Lane_count_resend(Lane *self, PyObject *arg) {
    unsigned long seq = PyLong_AsUnsignedLong(arg);
    if (seq == (unsigned long)-1 && PyErr_Occurred())
        return NULL;
    int i = seq % HISTORY;
    if (self->history[i] != NULL && self->history_seq[i] == (seq & 0xFFFF) &&
        self->history_resends[i] < 255)
        self->history_resends[i]++;
    Py_RETURN_NONE;
}

/* One packet for one enabled lane: the Python path's Downstream.forward, steady state. */
static int forward(Lane *self, int marker, unsigned int seq, unsigned int timestamp,
                   const char *payload, Py_ssize_t payload_len, const char *send_time,
                   const char *level, PyObject *now) {
    unsigned char buffer[BUFFER];
    unsigned int ours = (seq + self->seq_offset) & 0xFFFF;
    unsigned int ts = (timestamp + self->ts_offset) & 0xFFFFFFFFu;
    int n = 12;
    buffer[0] = 0x90;
    buffer[1] = (unsigned char)((marker ? 0x80 : 0) | self->payload_type);
    buffer[2] = (unsigned char)(ours >> 8);
    buffer[3] = (unsigned char)ours;
    buffer[4] = (unsigned char)(ts >> 24);
    buffer[5] = (unsigned char)(ts >> 16);
    buffer[6] = (unsigned char)(ts >> 8);
    buffer[7] = (unsigned char)ts;
    buffer[8] = (unsigned char)(self->ssrc >> 24);
    buffer[9] = (unsigned char)(self->ssrc >> 16);
    buffer[10] = (unsigned char)(self->ssrc >> 8);
    buffer[11] = (unsigned char)self->ssrc;
    int with_level = level != NULL && self->level_id >= 0;
    const unsigned char *head = with_level ? self->ext_head_level : self->ext_head;
    int head_len = with_level ? self->ext_head_level_len : self->ext_head_len;
    const unsigned char *pad = with_level ? self->ext_pad_level : self->ext_pad;
    int pad_len = with_level ? self->ext_pad_level_len : self->ext_pad_len;
    if (12 + head_len + 5 + pad_len + payload_len > self->max_packet)
        return 0; /* too long to forward: left to the Python path, which drops it */
    memcpy(buffer + n, head, head_len);
    n += head_len;
    if (self->has_send_time && send_time != NULL) {
        memcpy(buffer + n, send_time, 3);
        n += 3;
    }
    if (with_level) {
        buffer[n++] = (unsigned char)self->level_id;
        buffer[n++] = (unsigned char)level[0];
    }
    memcpy(buffer + n, pad, pad_len);
    n += pad_len;
    memcpy(buffer + n, payload, payload_len);
    n += (int)payload_len;
    int length = n;
    PyObject *datagram = protect_and_send(self, buffer, length);
    if (datagram == NULL)
        return -1;
    if (datagram == Py_None) { /* refused by libsrtp: not sent, nothing changes */
        Py_DECREF(datagram);
        return 1;
    }
    keep(self, ours, datagram);
    Py_DECREF(datagram);
    if (((ours - self->next_seq) & 0xFFFF) < 0x8000) { /* not a late, reordered one */
        self->next_seq = (ours + 1) & 0xFFFF;
        self->last_ts = ts;
        Py_INCREF(now);
        Py_XSETREF(self->last_time, now);
    }
    self->packets++;
    self->payload_octets += (unsigned long long)payload_len;
    self->octets += (unsigned long long)n; /* as the Python path: before protection */
    if (marker || self->is_audio)
        self->sent++;
    return 1;
}

static PyTypeObject LaneType;

static PyObject *lane_name;

static PyObject *fan_out(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    /* fan_out(slots, marker, seq, timestamp, payload, send_time, level, now) -> the
     * slots not written (their `lane` not enabled: the Python path's), in a list.
     * `send_time` is the 3-byte abs-send-time or None, `level` the audio level
     * element's value byte or None. */
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError, "fan_out takes 8 arguments");
        return NULL;
    }
    int marker = PyObject_IsTrue(args[1]);
    unsigned long seq = PyLong_AsUnsignedLong(args[2]);
    unsigned long timestamp = PyLong_AsUnsignedLong(args[3]);
    if (marker < 0 || PyErr_Occurred())
        return NULL;
    char *payload, *send_time = NULL, *level = NULL;
    Py_ssize_t payload_len, size;
    if (PyBytes_AsStringAndSize(args[4], &payload, &payload_len) < 0)
        return NULL;
    if (args[5] != Py_None) {
        if (PyBytes_AsStringAndSize(args[5], &send_time, &size) < 0)
            return NULL;
        if (size != 3)
            send_time = NULL;
    }
    if (args[6] != Py_None) {
        if (PyBytes_AsStringAndSize(args[6], &level, &size) < 0)
            return NULL;
        if (size != 1)
            level = NULL;
    }
    PyObject *now = args[7];
    PyObject *iterator = PyObject_GetIter(args[0]);
    if (iterator == NULL)
        return NULL;
    PyObject *rest = PyList_New(0);
    if (rest == NULL) {
        Py_DECREF(iterator);
        return NULL;
    }
    PyObject *slot;
    while ((slot = PyIter_Next(iterator)) != NULL) {
        int done = 0;
        PyObject *item = PyObject_GetAttr(slot, lane_name);
        if (item == NULL) {
            PyErr_Clear();
        } else {
            if (Py_IS_TYPE(item, &LaneType)) {
                Lane *lane = (Lane *)item;
                if (lane->enabled && lane->bound)
                    done = forward(lane, marker, (unsigned int)seq, (unsigned int)timestamp,
                                   payload, payload_len, send_time, level, now);
            }
            Py_DECREF(item);
        }
        if (done < 0 || (!done && PyList_Append(rest, slot) < 0)) {
            Py_DECREF(slot);
            Py_DECREF(rest);
            Py_DECREF(iterator);
            return NULL;
        }
        Py_DECREF(slot);
    }
    Py_DECREF(iterator);
    if (PyErr_Occurred()) {
        Py_DECREF(rest);
        return NULL;
    }
    return rest;
}

static PyObject *Lane_get_last_time(Lane *self, void *closure) {
    if (self->last_time == NULL) /* not initialised (Lane.__new__ alone) */
        Py_RETURN_NONE;
    Py_INCREF(self->last_time);
    return self->last_time;
}

static int Lane_set_last_time(Lane *self, PyObject *value, void *closure) {
    if (value == NULL || (value != Py_None && !PyFloat_Check(value))) {
        PyErr_SetString(PyExc_TypeError, "last_time is a float or None");
        return -1;
    }
    Py_INCREF(value);
    Py_XSETREF(self->last_time, value);
    return 0;
}

static PyGetSetDef Lane_getset[] = {
    {"last_time", (getter)Lane_get_last_time, (setter)Lane_set_last_time,
     "wall time of our newest packet (None before the first)", NULL},
    {NULL},
};

#define MEMBER(name, type) {#name, type, offsetof(Lane, name), 0, NULL}
static PyMemberDef Lane_members[] = {
    MEMBER(enabled, T_BOOL),
    MEMBER(is_audio, T_BOOL),
    MEMBER(ssrc, T_UINT),
    MEMBER(payload_type, T_INT),
    MEMBER(seq_offset, T_UINT),
    MEMBER(ts_offset, T_UINT),
    MEMBER(next_seq, T_UINT),
    MEMBER(last_ts, T_UINT),
    MEMBER(packets, T_ULONGLONG),
    MEMBER(payload_octets, T_ULONGLONG),
    MEMBER(octets, T_ULONGLONG),
    MEMBER(sent, T_ULONGLONG),
    MEMBER(send_errors, T_ULONGLONG),
    MEMBER(protect_errors, T_ULONGLONG),
    {"bound", T_BOOL, offsetof(Lane, bound), READONLY, NULL},
    {NULL},
};

static PyMethodDef Lane_methods[] = {
    {"configure", (PyCFunction)(void (*)(void))Lane_configure, METH_VARARGS | METH_KEYWORDS,
     "configure(ssrc, payload_type, ext_head, ext_pad, ext_head_level, ext_pad_level,"
     " send_time, level_id): what negotiation settled for the slot"},
    {"bind", (PyCFunction)Lane_bind, METH_VARARGS,
     "bind(srtp, protect, max_packet, fd, host, port): the SRTP context, srtp_protect's"
     " address, the longest packet to protect, the socket (duplicated) and the"
     " subscriber's address"},
    {"unbind", (PyCFunction)Lane_unbind, METH_NOARGS, "stop writing (and disable)"},
    {"write", (PyCFunction)Lane_write, METH_O,
     "protect and send a packet: the datagram, or None when libsrtp refused it"},
    {"resend", (PyCFunction)Lane_resend, METH_O, "send a protected datagram again"},
    {"keep", (PyCFunction)Lane_keep, METH_VARARGS, "keep(seq, datagram) for resends"},
    {"kept", (PyCFunction)Lane_kept, METH_O, "(datagram, resends) of seq, or None"},
    {"count_resend", (PyCFunction)Lane_count_resend, METH_O, "one more resend of seq"},
    {NULL},
};

static PyTypeObject LaneType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "salon.media.embedded._lane.Lane",
    .tp_doc = "One subscriber slot's forwarding state and output (see the module).",
    .tp_basicsize = sizeof(Lane),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = Lane_new,
    .tp_init = (initproc)Lane_init,
    .tp_dealloc = (destructor)Lane_dealloc,
    .tp_traverse = (traverseproc)Lane_traverse,
    .tp_clear = (inquiry)Lane_clear,
    .tp_members = Lane_members,
    .tp_getset = Lane_getset,
    .tp_methods = Lane_methods,
};

static PyMethodDef module_methods[] = {
    {"fan_out", (PyCFunction)(void (*)(void))fan_out, METH_FASTCALL,
     "fan_out(slots, marker, seq, timestamp, payload, send_time, level, now): write the"
     " packet on every slot whose lane is enabled; the slots left for the Python path"},
    {NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_lane", "The forwarding fast lane (see lane.py).", -1,
    module_methods,
};

PyMODINIT_FUNC PyInit__lane(void) {
    if (PyType_Ready(&LaneType) < 0)
        return NULL;
    lane_name = PyUnicode_InternFromString("lane");
    if (lane_name == NULL)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&LaneType);
    if (PyModule_AddObject(m, "Lane", (PyObject *)&LaneType) < 0) {
        Py_DECREF(&LaneType);
        Py_DECREF(m);
        return NULL;
    }
    PyModule_AddIntConstant(m, "HISTORY", HISTORY);
    return m;
}
