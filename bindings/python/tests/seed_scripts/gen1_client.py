from ferrosock import socket

# 【1】.买手机
phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM)

# 【2】.拨通服务端电话
# connect(('服务端ip', 服务端端口))
phone.connect(('127.0.0.1', __PORT__))
# (2)
# 【3】.通信
# send(二进制数据类型)
phone.send('is running for 发送信息'.encode('utf8'))

# 接受服务端返回的数据
data = phone.recv(1024)
# 打印返回的消息 解码
print(data.decode('utf8'))
# (6)IS RUNNING FOR 发送信息

# 【4】.关闭连接(必选的回收资源操作)
phone.close()
