from ferrosock import socket

# 【1】.买手机
# socket.SOCK_STREAM :流式协议 ----> TCP协议 ----> 所有数据是一个整体
# socket.SOCK_DGRAM : 报协议  ----> 每一次数据都是单独一部分
phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM)

# 【2】.绑定手机卡 ---> 192.168.1.50(本机IP地址)
# 0.0.0.0(任意IP地址) ---> 关联公网IP才会起作用  ----> 服务器用
# 127.0.0.1(本机固定IP地址) ---> 只有本机才能访问这个地址(测试用)
# 端口号:0-65535, 1024以前的都被系统保留使用
# phone.bind(('ip', port))
phone.bind(('127.0.0.1', __PORT__))

# 【3】.开机 -- 监听状态
# 5 :指的是半连接池的大小
phone.listen(5)
print(f'服务器启动,开始监听ip:>>>{"127.0.0.1"},port:>>>{__PORT__}')
# (1)服务器启动,开始监听ip:>>>127.0.0.1,port:>>>8080

# 【4】.等待电话链接请求:拿到电话链接 conn
#  ---- 加上链接循环 ----> 循环建链接
while True:
    # 返回的是双向通路 --- 操作系统维持链接
    # conn : 双向通路的链接
    # client_addr : 客户端的iP和端口
    conn, client_addr = phone.accept()
    # (3)这是服务端的conn:>>> <socket.socket fd=352, family=AddressFamily.AF_INET, type=SocketKind.SOCK_STREAM, proto=0, laddr=('127.0.0.1', 8080), raddr=('127.0.0.1', 5249)>
    print('这是服务端的client_addr:>>>', client_addr)
    # (4)这是服务端的client_addr:>>> ('127.0.0.1', 5249)

    while True:
        # 【5】.接收消息
        # 1024 :最大接受的数据量为1024 bytes类型,收到的是bytes类型
        try:
            data = conn.recv(1024)

            if len(data) == 0:
                # 在 unix 系统里,一旦data收到的内容为空
                # 就意味着一种异常行为:客户端非法断开了链接
                break

            if data.decode('utf-8') == 'q':
                break

            # 对接受的二进制数据进行解码
            print('从客户端接受的数据:>>>>', data.decode('utf-8'))
            # (5)从客户端接受的数据:>>>> is running for 发送信息
            # 发消息 返回消息状态等信息
            conn.send(data.upper())
        except Exception as e:
            break

    # 【6】.关闭连接(必选的回收资源操作) conn
    # 完成后断开连接
    conn.close()

# 【7】.关机(可选操作)
phone.close()
