import socketserver
#1-需要继承一个类BaseRequestHandler 实现handle方法
print('---服务启动完成,等待客户端中---')
class SKserver(socketserver.BaseRequestHandler):
    def handle(self):
        print('---有客户端上线了---')
        #处理逻辑,self.request方法
        while True:
            #接收数据
            client_data =self.request.recv(1024).decode('utf-8')
            print('接收到客户端的数据>>>',client_data)
            #发送数据
            send_data=input('请输入:>>>')
            self.request.sendall(send_data.encode('utf-8'))
            print('发送给客户端的数据>>>',send_data)
        self.request.close()
#2-创建服务,多线程方式ThreadingTCPServer
sk=socketserver.ThreadingTCPServer(('127.0.0.1',__PORT__),SKserver)
#3-保持一直在线
sk.serve_forever()
