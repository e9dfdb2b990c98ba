// Reply is a plain struct; this file holds the conversion from hiredis' reply objects, the
// only place hiredis' reply types are touched.
#include "rci/redis/reply.hpp"

#include <hiredis/hiredis.h>

namespace rci::redis {

Reply convert_reply(const redisReply* raw);

Reply convert_reply(const redisReply* raw) {
  Reply reply;
  switch (raw->type) {
    case REDIS_REPLY_STRING:
      reply.type = Reply::Type::string;
      reply.str.assign(raw->str, raw->len);
      break;
    case REDIS_REPLY_STATUS:
      reply.type = Reply::Type::status;
      reply.str.assign(raw->str, raw->len);
      break;
    case REDIS_REPLY_ERROR:
      reply.type = Reply::Type::error;
      reply.str.assign(raw->str, raw->len);
      break;
    case REDIS_REPLY_INTEGER:
      reply.type = Reply::Type::integer;
      reply.integer = raw->integer;
      break;
    case REDIS_REPLY_ARRAY:
      reply.type = Reply::Type::array;
      reply.elements.reserve(raw->elements);
      for (size_t i = 0; i < raw->elements; ++i) reply.elements.push_back(convert_reply(raw->element[i]));
      break;
    default: reply.type = Reply::Type::nil;
  }
  return reply;
}

}  // namespace rci::redis
