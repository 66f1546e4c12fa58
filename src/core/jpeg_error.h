// libjpeg-turbo's errors as a message and a jump back to the caller's setjmp
// (its default handler exits the process): for every reader and writer that
// uses libjpeg.
#pragma once
#include <csetjmp>
#include <cstddef>
#include <cstdio>

#include <jpeglib.h>  // needs size_t and FILE first

namespace obscura {

struct LibjpegErrors {
    jpeg_error_mgr base;
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];

    // libjpeg's standard manager with our exit: assign to cinfo.err, then
    // setjmp(jump) before any libjpeg call.
    jpeg_error_mgr* manager() {
        jpeg_std_error(&base);
        base.error_exit = [](j_common_ptr cinfo) {
            auto* self = reinterpret_cast<LibjpegErrors*>(cinfo->err);
            (*cinfo->err->format_message)(cinfo, self->message);
            std::longjmp(self->jump, 1);
        };
        return &base;
    }
};

}  // namespace obscura
